//! Every statement shape the store sends, run against PostgreSQL: each list with each
//! combination of its filters (a static statement each, or one built from the given filters),
//! each document table, each checkout read, the ledger listing with each filter and order. Two
//! projects hold the same data, so each answer also shows it stays within its project.

use crate::fresh::FreshDb;
use crate::project;
use promo_store::campaigns::{self, CampaignKeys};
use promo_store::documents::DocTable;
use promo_store::ledger::{self, CustomerLookup, LedgerWrite, NewRedemption, RedemptionFilter, VoucherLookup};
use promo_store::{Page, PgPool, ProjectId, new_id};
use serde_json::json;
use uuid::Uuid;

const ALL: Page = Page { limit: 100, offset: 0 };

/// What [`seed`] wrote in one project.
struct Seeded {
    coupons: Uuid,
    promotion: Uuid,
    /// Two codes of the coupon campaign and one standalone code.
    vouchers: [Uuid; 3],
    customer: Uuid,
    segment: Uuid,
    rule: Uuid,
}

async fn campaign(db: &PgPool, p: ProjectId, name: &str, campaign_type: &str) -> Uuid {
    let id = new_id();
    let keys = CampaignKeys { name, campaign_type, type_: "STATIC", active: true, category_id: None };
    let mut conn = promo_store::acquire(db).await.unwrap();
    campaigns::insert_campaign(&mut conn, p, id, &keys, &json!({})).await.unwrap();
    id
}

async fn seed(db: &PgPool, p: ProjectId) -> Seeded {
    let coupons = campaign(db, p, "coupons", "DISCOUNT_COUPONS").await;
    let promotion = campaign(db, p, "promotion", "PROMOTION").await;
    let mut vouchers = [Uuid::nil(); 3];
    for (i, (code, owner)) in [("SUMMER", Some(coupons)), ("WINTER", Some(coupons)), ("SOLO", None)].iter().enumerate()
    {
        vouchers[i] = new_id();
        assert!(campaigns::insert_voucher(db, p, vouchers[i], code, code, *owner, true, &json!({})).await.unwrap());
    }
    let mut conn = promo_store::acquire(db).await.unwrap();
    for _ in 0..2 {
        campaigns::insert_tier(&mut conn, p, new_id(), promotion, None, true, &json!({})).await.unwrap();
    }
    let customer = new_id();
    promo_store::customers::CUSTOMERS
        .insert(db, p, customer, None, Some("c-1"), &json!({"email": "a@b.c"}))
        .await
        .unwrap();
    let segment = new_id();
    promo_store::audiences::SEGMENTS
        .insert(db, p, segment, None, None, &json!({"name": "vip", "type": "static"}))
        .await
        .unwrap();
    promo_store::audiences::add_segment_member(db, p, segment, customer).await.unwrap();
    let rule = new_id();
    promo_store::validation_rules::insert(db, p, rule, "rule", &json!({})).await.unwrap();
    for object in ["v_a", "v_b"] {
        promo_store::validation_rules::assign(db, p, new_id(), rule, "voucher", object).await.unwrap();
    }
    for (source, voucher) in [("pub-1", vouchers[0]), ("pub-2", vouchers[1])] {
        let publication = promo_store::publications::NewPublication {
            id: new_id(),
            voucher_ids: &[voucher],
            customer,
            campaign: Some(coupons),
            source_id: Some(source),
            doc: &json!({}),
        };
        promo_store::publications::insert(db, p, &publication).await.unwrap();
    }
    Seeded { coupons, promotion, vouchers, customer, segment, rule }
}

async fn two_projects(db: &PgPool) -> (ProjectId, Seeded) {
    let (a, b) = (project(db, "A").await, project(db, "B").await);
    let seeded = seed(db, a).await;
    seed(db, b).await;
    (a, seeded)
}

#[tokio::test]
async fn every_list_answers_with_each_combination_of_its_filters() {
    let fresh = FreshDb::new().await;
    let (p, s) = two_projects(&fresh.pool).await;
    let mut conn = promo_store::acquire(&fresh.pool).await.unwrap();
    let c = &mut *conn;

    let (rows, total) = campaigns::list_campaigns(c, p, None, None, ALL).await.unwrap();
    assert_eq!((rows.len(), total), (2, 2));
    let (rows, total) = campaigns::list_campaigns(c, p, Some("PROMOTION"), None, ALL).await.unwrap();
    assert_eq!((rows[0].campaign_id, total), (s.promotion, 1));
    assert_eq!(rows[0].vouchers_count, 0);
    let name = rows[0].name.to_uppercase();
    let (rows, total) = campaigns::list_campaigns(c, p, None, Some(&name[1..]), ALL).await.unwrap();
    assert_eq!((rows[0].campaign_id, total), (s.promotion, 1));
    let (_, total) = campaigns::list_campaigns(c, p, Some("DISCOUNT_COUPONS"), Some(&name), ALL).await.unwrap();
    assert_eq!(total, 0);

    let (rows, total) = campaigns::list_vouchers(c, p, None, ALL).await.unwrap();
    assert_eq!((rows.len(), total), (3, 3));
    let (rows, total) = campaigns::list_vouchers(c, p, Some(s.coupons), Page { limit: 1, offset: 1 }).await.unwrap();
    assert_eq!((rows.len(), total), (1, 2), "a page of one, the total of the filter");
    assert_eq!(rows[0].campaign_name.as_deref(), Some("coupons"));
    assert_eq!(rows[0].redeemed_quantity, Some(0));

    let (rows, total) = campaigns::list_tiers(c, p, None, ALL).await.unwrap();
    assert_eq!((rows.len(), total), (2, 2));
    assert_eq!(rows.iter().map(|t| t.hierarchy).collect::<Vec<_>>(), vec![1, 2]);
    assert_eq!(campaigns::list_tiers(c, p, Some(s.promotion), ALL).await.unwrap().1, 2);
    assert_eq!(campaigns::list_tiers(c, p, Some(s.coupons), ALL).await.unwrap().1, 0);

    use promo_store::validation_rules::list_assignments;
    assert_eq!(list_assignments(c, p, None, None, ALL).await.unwrap().1, 2);
    assert_eq!(list_assignments(c, p, Some(s.rule), None, ALL).await.unwrap().1, 2);
    assert_eq!(list_assignments(c, p, None, Some("v_a"), ALL).await.unwrap().1, 1);
    assert_eq!(list_assignments(c, p, Some(s.rule), Some("v_b"), ALL).await.unwrap().1, 1);
    assert_eq!(list_assignments(c, p, Some(new_id()), Some("v_b"), ALL).await.unwrap().1, 0);

    use promo_store::publications::{PublicationFilter, list};
    let filters = [
        (PublicationFilter::default(), 2),
        (PublicationFilter { customer: Some(s.customer), ..Default::default() }, 2),
        (PublicationFilter { campaign: Some(s.coupons), ..Default::default() }, 2),
        (PublicationFilter { voucher: Some(s.vouchers[1]), ..Default::default() }, 1),
        (PublicationFilter { source_id: Some("pub-1".into()), ..Default::default() }, 1),
        (
            PublicationFilter {
                customer: Some(s.customer),
                campaign: Some(s.coupons),
                voucher: Some(s.vouchers[0]),
                source_id: Some("pub-1".into()),
            },
            1,
        ),
        (PublicationFilter { campaign: Some(s.promotion), ..Default::default() }, 0),
    ];
    for (filter, expected) in filters {
        let (rows, total) = list(c, p, &filter, ALL).await.unwrap();
        assert_eq!((rows.len() as i64, total), (expected, expected), "{filter:?}");
    }

    assert_eq!(promo_store::validation_rules::list(c, p, ALL).await.unwrap().1, 1);
    drop(conn);
    fresh.finish().await;
}

/// Insert, read by id and by source id, list (within a parent too), update, delete: each
/// document table, with its derived columns kept in step.
#[tokio::test]
async fn every_document_table_keeps_its_rows_and_derived_columns() {
    use promo_store::audiences::{COLLECTIONS, ORDERS, SEGMENTS};
    use promo_store::customers::CUSTOMERS;
    use promo_store::products::{PRODUCTS, SKUS};
    let fresh = FreshDb::new().await;
    let db = &fresh.pool;
    let (p, other) = (project(db, "docs").await, project(db, "other").await);
    let product = new_id();
    let promotion = campaign(db, p, "stacks", "PROMOTION").await;
    let tables: [(&str, DocTable, bool, Option<Uuid>); 7] = [
        ("customer", CUSTOMERS, true, None),
        ("product", PRODUCTS, true, None),
        ("sku", SKUS, true, Some(product)),
        ("segment", SEGMENTS, false, None),
        ("collection", COLLECTIONS, false, None),
        ("order", ORDERS, true, None),
        ("stack", campaigns::STACKS, false, Some(promotion)),
    ];
    for (name, table, has_source, parent) in tables {
        // an SKU needs its product first
        if name == "sku" {
            PRODUCTS.insert(db, p, product, None, Some("prod-parent"), &json!({"name": "parent"})).await.unwrap();
        }
        let id = new_id();
        let source = has_source.then(|| format!("{name}-1"));
        let doc =
            json!({"name": "first", "email": "x@y.z", "price": 100, "amount": 250, "status": "PAID", "type": "static"});
        let row = table.insert(db, p, id, parent, source.as_deref(), &doc).await.unwrap();
        assert_eq!((row.id, row.source_id.clone(), row.parent_id), (id, source.clone(), parent), "{name}");
        assert_eq!(table.get(db, p, Some(id), None).await.unwrap().map(|r| r.id), Some(id), "{name} by id");
        assert!(table.get(db, other, Some(id), None).await.unwrap().is_none(), "{name} of another project");
        if let Some(source) = &source {
            let found = table.get(db, p, None, Some(source)).await.unwrap();
            assert_eq!(found.map(|r| r.id), Some(id), "{name} by source id");
        }
        let mut conn = promo_store::acquire(db).await.unwrap();
        // one row each (the SKUs' product is made after the product table's turn)
        let expected_all = 1;
        let (rows, total) = table.list(&mut conn, p, None, ALL).await.unwrap();
        assert_eq!((rows.len(), total), (expected_all, expected_all as i64), "{name} list");
        let (rows, total) = table.list(&mut conn, p, Some(parent.unwrap_or_else(new_id)), ALL).await.unwrap();
        let under_parent = usize::from(parent.is_some());
        assert_eq!((rows.len(), total), (under_parent, under_parent as i64), "{name} within a parent");
        assert_eq!(table.all(&mut *conn, p).await.unwrap().len(), expected_all, "{name} all");
        drop(conn);

        let changed = json!({"name": "second", "email": "new@y.z", "price": 7, "amount": 9, "status": "CANCELED", "type": "auto-update"});
        let row = table.update(db, p, id, source.as_deref(), &changed).await.unwrap().unwrap();
        assert_eq!(row.doc.0["name"], "second", "{name} updated");
        assert!(table.update(db, other, id, None, &changed).await.unwrap().is_none(), "{name}: not another project's");
        assert!(!table.delete(db, other, id).await.unwrap(), "{name}: not another project's");
        assert!(table.delete(db, p, id).await.unwrap(), "{name} deleted");
        assert!(table.get(db, p, Some(id), None).await.unwrap().is_none());
    }
    // the derived columns follow the document
    let customer = new_id();
    CUSTOMERS.insert(db, p, customer, None, Some("derived"), &json!({"email": "one@x.y"})).await.unwrap();
    CUSTOMERS.update(db, p, customer, Some("derived"), &json!({"email": "two@x.y"})).await.unwrap();
    let email: Option<String> =
        sqlx::query_scalar("select email from customer where project_id = $1 and customer_id = $2")
            .bind(p)
            .bind(customer)
            .fetch_one(db)
            .await
            .unwrap();
    assert_eq!(email.as_deref(), Some("two@x.y"));
    let order = new_id();
    ORDERS.insert(db, p, order, None, Some("o-derived"), &json!({"amount": 1234})).await.unwrap();
    let (status, amount): (String, i64) =
        sqlx::query_as("select status, amount from order_record where project_id = $1 and order_id = $2")
            .bind(p)
            .bind(order)
            .fetch_one(db)
            .await
            .unwrap();
    assert_eq!((status.as_str(), amount), ("CREATED", 1234));
    fresh.finish().await;
}

/// The checkout's reads, in each of their shapes: vouchers by one code, one id or several;
/// the customer by id or source id, with or without its static segments.
#[tokio::test]
async fn checkout_reads_answer_in_every_shape() {
    let fresh = FreshDb::new().await;
    let db = &fresh.pool;
    let (p, s) = two_projects(db).await;
    let lookups = [
        VoucherLookup { code_keys: vec!["SUMMER".into()], ..Default::default() },
        VoucherLookup { ids: vec![s.vouchers[2]], ..Default::default() },
        VoucherLookup {
            ids: vec![s.vouchers[2]],
            code_keys: vec!["SUMMER".into(), "NOPE".into()],
            ..Default::default()
        },
    ];
    let expected = [vec![s.vouchers[0]], vec![s.vouchers[2]], vec![s.vouchers[2], s.vouchers[0]]];
    for (lookup, expected) in lookups.into_iter().zip(expected) {
        let lookup = VoucherLookup { counter_key: campaigns::VOUCHER_QUANTITY_KEY, ..lookup };
        let found = ledger::checkout_vouchers(db, p, &lookup).await.unwrap();
        assert_eq!(found.iter().map(|v| v.row.voucher_id).collect::<Vec<_>>(), expected, "{lookup:?}");
        assert!(found.iter().all(|v| v.redeemed == 0 && v.definitions_version >= 0));
        for segments in [false, true] {
            for by_id in [false, true] {
                let customer =
                    CustomerLookup { id: by_id.then_some(s.customer), source_id: (!by_id).then_some("c-1"), segments };
                let (who, named) = ledger::checkout_reads(db, p, customer, &lookup).await.unwrap();
                let who = who.expect("the customer");
                assert_eq!(who.row.id, s.customer);
                assert_eq!(who.segments, if segments { vec![s.segment] } else { vec![] }, "{customer:?}");
                assert_eq!(named.iter().map(|v| v.row.voucher_id).collect::<Vec<_>>(), expected, "{customer:?}");

                let alone = ledger::checkout_customer(db, p, customer).await.unwrap().expect("the customer");
                assert_eq!((alone.row.id, alone.holds_vouchers), (s.customer, Some(false)));
            }
        }
    }
    // nothing of the project's for a name it does not have
    let nobody = CustomerLookup { id: None, source_id: Some("nobody"), segments: true };
    let lookup = VoucherLookup {
        code_keys: vec!["NOPE".into()],
        counter_key: campaigns::VOUCHER_QUANTITY_KEY,
        ..Default::default()
    };
    let (who, named) = ledger::checkout_reads(db, p, nobody, &lookup).await.unwrap();
    assert!(who.is_none() && named.is_empty());
    fresh.finish().await;
}

fn redemption(
    campaign: Uuid,
    customer: Option<Uuid>,
    code: &str,
    success: bool,
    parent: Option<Uuid>,
) -> NewRedemption {
    let id = new_id();
    let doc = json!({"id": format!("r_{}", id.simple()), "object": "redemption"});
    NewRedemption {
        id,
        parent_id: parent,
        success,
        related_object_type: "voucher".into(),
        related_object_id: format!("v_{code}"),
        campaign_id: Some(campaign),
        customer_id: customer,
        order_id: None,
        amount: 100,
        session_key: None,
        failure_code: (!success).then(|| "quantity_exceeded".into()),
        failure_message: None,
        claims: json!([]),
        doc: serde_json::value::to_raw_value(&doc).unwrap(),
        voucher_code: Some(code.into()),
        tracking_id: Some(format!("track-{code}")),
        figures: success.then_some((1000, 100)),
        cost_amount: None,
    }
}

/// The ledger listing, filtered by each of its filters and ordered by each of its orders;
/// rollbacks are entries of their own.
#[tokio::test]
async fn the_ledger_lists_with_each_filter_and_order() {
    let fresh = FreshDb::new().await;
    let db = &fresh.pool;
    let (p, s) = two_projects(db).await;
    let at = chrono::Utc::now();
    let parent = redemption(s.coupons, Some(s.customer), "SUMMER", true, None);
    let rows = [
        redemption(s.coupons, Some(s.customer), "WINTER", true, Some(parent.id)),
        redemption(s.promotion, None, "SOLO", false, None),
    ];
    let mut conn = promo_store::acquire(db).await.unwrap();
    let write = LedgerWrite { project: p, at, webhooks: false };
    ledger::insert_redemptions(&mut conn, write, std::slice::from_ref(&parent)).await.unwrap();
    ledger::insert_redemptions(&mut conn, write, &rows).await.unwrap();
    let rolled_back = new_id();
    assert!(ledger::insert_rollback(&mut conn, p, rolled_back, parent.id, &json!({}), at).await.unwrap());

    let filters = [
        (RedemptionFilter::default(), 4),
        (RedemptionFilter { results: vec!["FAILURE".into()], ..Default::default() }, 1),
        (RedemptionFilter { results: vec!["SUCCESS".into(), "FAILURE".into()], ..Default::default() }, 4),
        (RedemptionFilter { campaign_id: Some(s.coupons), ..Default::default() }, 3),
        (RedemptionFilter { customer_id: Some(s.customer), ..Default::default() }, 3),
        (RedemptionFilter { voucher_code: Some("SUMMER".into()), ..Default::default() }, 2),
        (RedemptionFilter { related_object_id: Some("v_SOLO".into()), ..Default::default() }, 1),
        (RedemptionFilter { parent_id: Some(parent.id), ..Default::default() }, 1),
        (RedemptionFilter { failure_code: Some("quantity_exceeded".into()), ..Default::default() }, 1),
        (RedemptionFilter { created_before: Some(at - chrono::Duration::hours(1)), ..Default::default() }, 0),
        (RedemptionFilter { created_after: Some(at - chrono::Duration::hours(1)), ..Default::default() }, 4),
        (
            RedemptionFilter {
                results: vec!["SUCCESS".into()],
                campaign_id: Some(s.coupons),
                customer_id: Some(s.customer),
                voucher_code: Some("WINTER".into()),
                ..Default::default()
            },
            1,
        ),
    ];
    use ledger::RedemptionOrder::*;
    for (filter, expected) in &filters {
        let (rows, total) = ledger::list_redemptions(&mut conn, p, filter, (CreatedAt, true), ALL).await.unwrap();
        assert_eq!((rows.len() as i64, total), (*expected, *expected), "{filter:?}");
    }
    let (rows, _) =
        ledger::list_redemptions(&mut conn, p, &RedemptionFilter::default(), (CreatedAt, true), ALL).await.unwrap();
    assert_eq!(rows.iter().filter(|r| r.is_rollback).map(|r| r.redemption_id).collect::<Vec<_>>(), vec![rolled_back]);
    for order in [CreatedAt, Id, VoucherCode, TrackingId, CustomerId] {
        for descending in [false, true] {
            let (rows, total) =
                ledger::list_redemptions(&mut conn, p, &RedemptionFilter::default(), (order, descending), ALL)
                    .await
                    .unwrap();
            assert_eq!((rows.len(), total), (4, 4), "{order:?} {descending}");
            if matches!(order, VoucherCode) {
                let mut codes: Vec<_> = rows.iter().map(|r| r.voucher_code.clone().unwrap()).collect();
                let listed = codes.clone();
                codes.sort();
                if descending {
                    codes.reverse();
                }
                assert_eq!(listed, codes, "ordered by code, descending {descending}");
            }
        }
    }
    let (rows, total) =
        ledger::list_redemptions(&mut conn, p, &RedemptionFilter::default(), (Id, false), Page { limit: 2, offset: 3 })
            .await
            .unwrap();
    assert_eq!((rows.len(), total), (1, 4), "the last page");
    drop(conn);
    fresh.finish().await;
}

/// Each of the eight redemption-write statements (a new or a stored order, with or without the
/// webhook events, one row or several) writes its order and rows, and its events when the project
/// has an endpoint.
#[tokio::test]
async fn every_redemption_write_shape_writes_its_order_rows_and_events() {
    let fresh = FreshDb::new().await;
    let db = &fresh.pool;
    let (p, s) = two_projects(db).await;
    sqlx::query(
        "insert into webhook_endpoint (project_id, webhook_id, url, secret, events, active)
         values ($1, $2, 'https://receiver.example', 'whsec_x', '{redemption.succeeded}', true)",
    )
    .bind(p)
    .bind(new_id())
    .execute(db)
    .await
    .unwrap();
    let mut conn = promo_store::acquire(db).await.unwrap();
    let order_doc = serde_json::value::to_raw_value(&json!({"status": "PAID", "amount": 500})).unwrap();
    let mut expected_events = 0;
    let mut expected_figures = 0;
    for shape in 0..8 {
        let (stored_order, webhooks, one_row) = (shape & 1 != 0, shape & 2 != 0, shape & 4 != 0);
        let order_id = new_id();
        if stored_order {
            promo_store::audiences::ORDERS.insert(db, p, order_id, None, None, &json!({"amount": 1})).await.unwrap();
        }
        let mut rows = vec![redemption(s.coupons, Some(s.customer), "SUMMER", true, None)];
        if !one_row {
            rows.push(redemption(s.coupons, Some(s.customer), "WINTER", true, Some(rows[0].id)));
        }
        let order =
            ledger::OrderWrite { id: order_id, source_id: None, customer: None, doc: &order_doc, stored: stored_order };
        let write = LedgerWrite { project: p, at: chrono::Utc::now(), webhooks };
        ledger::record_success(&mut conn, write, &rows, order).await.unwrap();
        for r in &rows {
            assert!(ledger::get_redemption(&mut *conn, p, r.id).await.unwrap().is_some(), "shape {shape}");
        }
        let amount: i64 = sqlx::query_scalar("select amount from order_record where project_id = $1 and order_id = $2")
            .bind(p)
            .bind(order_id)
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        assert_eq!(amount, 500, "shape {shape}: the order as written");
        // one event per top-level row, when the statement writes events
        expected_events += i64::from(webhooks);
        let events: i64 = sqlx::query_scalar("select count(*) from webhook_outbox where project_id = $1")
            .bind(p)
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        assert_eq!(events, expected_events, "shape {shape}");
        // each successful row of a campaign adds to its object's and its campaign's figures
        expected_figures += 2 * rows.len() as i64;
        let figures: (i64, i64, i64) = sqlx::query_as(
            "select count(*), coalesce(sum(order_amount), 0)::bigint, coalesce(sum(discount_amount), 0)::bigint
               from redemption_stats_delta where project_id = $1",
        )
        .bind(p)
        .fetch_one(&mut *conn)
        .await
        .unwrap();
        assert_eq!(figures, (expected_figures, expected_figures * 1000, expected_figures * 100), "shape {shape}");
    }
    drop(conn);
    fresh.finish().await;
}
