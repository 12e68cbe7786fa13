//! The store's reads behind list pages, with data written through the API (the store's own
//! tests, on databases of their own, are the `store` test binary).

use crate::helpers::*;
use serde_json::json;

/// The batched reads behind list pages answer only for the project they are given, whatever ids
/// they are handed (another project's campaigns, tiers, objects or redemptions).
#[tokio::test]
async fn batched_reads_stay_within_their_project() {
    let app = TestApp::new().await;
    let (a, b) = (app.project("batch-a").await, app.project("batch-b").await);
    let mut tiers = Vec::new();
    let mut campaigns = Vec::new();
    for p in [&a, &b] {
        let rule = app
            .post(
                p,
                "/v1/validation-rules",
                json!({"name": "big orders", "rules": {"1": {"name": "order.amount",
                   "conditions": {"$more_than": [100]}}, "logic": "1"}}),
            )
            .await
            .json()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let c = app
            .post(p, "/v1/campaigns", json!({"name": "promo", "campaign_type": "PROMOTION", "promotion": {"tiers": [
                {"name": "t", "action": {"discount": {"type": "AMOUNT", "amount_off": 5}}, "validation_rules": [rule]}]}}))
            .await
            .json();
        campaigns.push(c["id"].as_str().unwrap().trim_start_matches("camp_").to_owned());
        tiers.push(c["promotion"]["tiers"][0]["id"].as_str().unwrap().to_owned());
    }
    let uuid = |s: &str| uuid::Uuid::parse_str(s).unwrap();
    let both: Vec<uuid::Uuid> = campaigns.iter().map(|c| uuid(c)).collect();
    let mut conn = promo_store::acquire(&app.db).await.unwrap();

    let found = promo_store::campaigns::campaigns_by_ids(&mut *conn, a.project_id(), &both).await.unwrap();
    assert_eq!(found.iter().map(|c| c.campaign_id).collect::<Vec<_>>(), vec![both[0]]);
    let found = promo_store::campaigns::tiers_of(&mut *conn, a.project_id(), &both).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].campaign_id, both[0]);
    let found = promo_store::validation_rules::assignments_of(&mut *conn, a.project_id(), &tiers).await.unwrap();
    assert_eq!(found.iter().map(|x| x.related_object_id.as_str()).collect::<Vec<_>>(), vec![tiers[0].as_str()]);
    // nothing of b's through a, even named directly
    let found = promo_store::validation_rules::assignments_of(&mut *conn, a.project_id(), &tiers[1..]).await.unwrap();
    assert!(found.is_empty());
    let found = promo_store::campaigns::tiers_of(&mut *conn, a.project_id(), &both[1..]).await.unwrap();
    assert!(found.is_empty());
}
