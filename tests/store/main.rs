//! The store's own tests: each runs on a database of its own, created and migrated for it and
//! dropped after it (what `#[sqlx::test]` does; see docs/decisions.md for why not that macro),
//! and calls the store directly. They cover every statement shape the store sends: each list
//! with each combination of its filters, each document table, each checkout read, the ledger
//! listing with its filters and orders.

// test code: a failed unwrap is a failed test, with its message
#![allow(clippy::unwrap_used)]

mod fresh;
mod statements;

use fresh::FreshDb;
use promo_store::projects::{KeyKind, NewKey, ProjectSettings};
use serde_json::json;

fn settings(name: &str) -> ProjectSettings {
    ProjectSettings {
        name: name.into(),
        description: None,
        timezone: "UTC".into(),
        currency: "USD".into(),
        case_sensitive_codes: false,
        client_trusted_domains: vec![],
        client_redeem_enabled: false,
        rate_limits: Default::default(),
        customer_identity: "customer".into(),
        lockout: None,
    }
}

/// A project with one server key (token `secret`).
pub async fn project(db: &promo_store::PgPool, name: &str) -> promo_store::ProjectId {
    let id = promo_store::ProjectId(promo_store::new_id());
    let keys =
        [NewKey { app_id: id.to_string(), kind: KeyKind::Server, token_hash: promo_store::hash_token("secret") }];
    let mut tx = promo_store::begin(db).await.unwrap();
    promo_store::projects::insert(&mut tx, id, &settings(name), &keys).await.unwrap();
    promo_store::commit(tx).await.unwrap();
    id
}

#[tokio::test]
async fn authentication_needs_the_right_kind_and_token() {
    let app = FreshDb::new().await;
    let id = project(&app.pool, "Auth").await;
    let app_id = id.to_string();
    let ok = promo_store::projects::authenticate(
        &app.pool,
        id,
        &app_id,
        KeyKind::Server,
        &promo_store::hash_token("secret"),
    )
    .await
    .unwrap();
    assert_eq!(ok.map(|p| p.project_id), Some(id));
    assert!(
        promo_store::projects::authenticate(
            &app.pool,
            id,
            &app_id,
            KeyKind::Client,
            &promo_store::hash_token("secret")
        )
        .await
        .unwrap()
        .is_none()
    );
    assert!(
        promo_store::projects::authenticate(&app.pool, id, &app_id, KeyKind::Server, &promo_store::hash_token("guess"))
            .await
            .unwrap()
            .is_none()
    );
    let other = project(&app.pool, "Other").await;
    assert!(
        promo_store::projects::authenticate(
            &app.pool,
            other,
            &app_id,
            KeyKind::Server,
            &promo_store::hash_token("secret")
        )
        .await
        .unwrap()
        .is_none(),
        "keys are per project"
    );
    app.finish().await;
}

#[tokio::test]
async fn a_code_is_inserted_once_per_project() {
    let app = FreshDb::new().await;
    let (a, b) = (project(&app.pool, "A").await, project(&app.pool, "B").await);
    let doc = json!({});
    let insert = |p, code: &'static str| {
        let db = app.pool.clone();
        let doc = doc.clone();
        async move {
            promo_store::campaigns::insert_voucher(
                &db,
                p,
                promo_store::new_id(),
                code,
                &code.to_uppercase(),
                None,
                true,
                &doc,
            )
            .await
            .unwrap()
        }
    };
    assert!(insert(a, "Summer").await);
    assert!(!insert(a, "SUMMER").await, "the code key decides");
    assert!(insert(b, "summer").await, "another project may use it");
    app.finish().await;
}

#[tokio::test]
async fn unique_and_foreign_key_violations_keep_their_constraint() {
    let app = FreshDb::new().await;
    let p = project(&app.pool, "Constraints").await;
    promo_store::categories::insert(&app.pool, p, promo_store::new_id(), "Dup", 1).await.unwrap();
    let e = promo_store::categories::insert(&app.pool, p, promo_store::new_id(), "Dup", 1).await.unwrap_err();
    assert_eq!(e.constraint(), Some("category_project_id_name_key"));
    let missing_rule = promo_store::new_id();
    let e = promo_store::validation_rules::assign(&app.pool, p, promo_store::new_id(), missing_rule, "voucher", "v_1")
        .await
        .unwrap_err();
    assert!(matches!(e, promo_store::StoreError::ForeignKeyViolation { .. }), "{e:?}");
    app.finish().await;
}

#[tokio::test]
async fn deleting_a_project_deletes_its_data() {
    let app = FreshDb::new().await;
    let p = project(&app.pool, "Gone").await;
    let cat = promo_store::new_id();
    promo_store::categories::insert(&app.pool, p, cat, "C", 1).await.unwrap();
    promo_store::customers::CUSTOMERS
        .insert(&app.pool, p, promo_store::new_id(), None, Some("c-1"), &json!({}))
        .await
        .unwrap();
    assert!(promo_store::projects::delete(&app.pool, p).await.unwrap());
    assert!(promo_store::categories::get(&app.pool, p, cat).await.unwrap().is_none());
    assert!(promo_store::customers::CUSTOMERS.get(&app.pool, p, None, Some("c-1")).await.unwrap().is_none());
    app.finish().await;
}

#[tokio::test]
async fn idempotency_keys_are_kept_a_week_then_expired() {
    let app = FreshDb::new().await;
    let id = project(&app.pool, "Keys").await;
    let mut tx = promo_store::begin(&app.pool).await.unwrap();
    for key in ["fresh", "six-days", "eight-days"] {
        assert!(promo_store::ledger::claim_idempotency_key(&mut tx, id, key, b"hash").await.unwrap().is_none());
        promo_store::ledger::complete_idempotency_key(&mut tx, id, key, 200, b"{}").await.unwrap();
    }
    promo_store::commit(tx).await.unwrap();
    for (key, days) in [("six-days", 6), ("eight-days", 8)] {
        sqlx::query("update idempotency_key set created_at = now() - make_interval(days => $3) where project_id = $1 and idempotency_key = $2")
            .bind(id)
            .bind(key)
            .bind(days)
            .execute(&app.pool)
            .await
            .unwrap();
    }
    promo_store::ledger::expire_idempotency_keys(&app.pool, 7).await.unwrap();
    for (key, kept) in [("fresh", true), ("six-days", true), ("eight-days", false)] {
        let found = promo_store::ledger::idempotent_response(&app.pool, id, key).await.unwrap();
        assert_eq!(found.is_some(), kept, "{key}");
    }
    app.finish().await;
}

#[tokio::test]
async fn a_claim_counts_the_live_reservations_of_other_sessions() {
    use promo_store::ledger::{self, Claim, OrderWrite};
    let app = FreshDb::new().await;
    let p = project(&app.pool, "Reserved").await;
    let mut conn = promo_store::acquire(&app.pool).await.unwrap();
    let claim = [Claim { key: "quantity".into(), delta: 1, limit: Some(2) }];
    let doc = serde_json::value::to_raw_value(&json!({"status": "PAID"})).unwrap();
    let now = chrono::Utc::now();
    // every claim writes an order of its own (the redemption's)
    let mut redeem = async |claims: &[Claim]| {
        let order = OrderWrite { id: promo_store::new_id(), source_id: None, customer: None, doc: &doc, stored: false };
        let write = ledger::LedgerWrite { project: p, at: now, webhooks: false };
        ledger::redeem_atomically(&mut conn, write, (claims, None), &[], order).await.unwrap()
    };
    assert_eq!(redeem(&claim).await, None, "the first unit");
    // another checkout's session holds the second unit: a plain claim finds none left
    let mut tx = promo_store::begin(&app.pool).await.unwrap();
    let held = ledger::reserve(&mut tx, p, "ssn_other", &claim, now + chrono::Duration::hours(1)).await.unwrap();
    assert_eq!(held, None);
    promo_store::commit(tx).await.unwrap();
    assert_eq!(redeem(&claim).await, Some(0), "the reserved unit is not claimable");
    // released, the unit is claimable; then the limit holds
    assert!(ledger::release_session(&app.pool, p, "ssn_other").await.unwrap());
    assert_eq!(redeem(&claim).await, None);
    assert_eq!(redeem(&claim).await, Some(0));
    let value: i64 = sqlx::query_scalar("select value from counter where project_id = $1 and counter_key = 'quantity'")
        .bind(p)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(value, 2);
    app.finish().await;
}
