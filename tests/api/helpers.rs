use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::BodyExt;
use promo_api::config::Config;
use promo_api::state::{AppState, ManagementCredential};
use serde_json::Value;
use tokio::sync::OnceCell;
use tower::ServiceExt;

pub const MANAGEMENT_ID: &str = "mgmt_test";
pub const MANAGEMENT_TOKEN: &str = "management-token-for-tests";

static DATABASE: OnceCell<String> = OnceCell::const_new();

/// One database per test run, migrated once; stale ones from earlier runs are dropped.
async fn database_url() -> String {
    DATABASE
        .get_or_init(|| async {
            let config = Config {
                database_url: std::env::var("DATABASE_URL").ok(),
                ..Config::for_tests((String::new(), String::new()))
            };
            let server =
                promo_api::postgres_setup::server_url(&config).await.expect("a PostgreSQL server for the tests");
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0);
            promo_store::drop_stale_databases(&server, "promo_test_", now, 3600)
                .await
                .expect("drop stale test databases");
            let name = format!("promo_test_{}_{now}", std::process::id());
            promo_store::ensure_database(&server, &name).await.expect("create the test database");
            let url = format!("{server}/{name}");
            let pool = promo_store::connect(&url, 1).await.expect("connect");
            promo_store::migrate(&pool).await.expect("migrate");
            pool.close().await;
            url
        })
        .await
        .clone()
}

pub struct TestApp {
    router: Router,
    pub db: promo_store::PgPool,
    /// The application's state (its caches), for tests that look inside.
    pub state: AppState,
}

/// A project created through the management API, with its keys.
#[derive(Debug, Clone)]
pub struct Project {
    pub id: String,
    pub app_id: String,
    pub token: String,
    pub client_app_id: String,
    pub client_token: String,
}

impl Project {
    /// The project's id in the database (its server-side app id).
    pub fn uuid(&self) -> uuid::Uuid {
        uuid::Uuid::parse_str(&self.app_id).expect("the server app id is the project id")
    }

    /// The same, typed as the store takes it.
    pub fn project_id(&self) -> promo_store::ProjectId {
        promo_store::ProjectId(self.uuid())
    }
}

pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl TestResponse {
    #[track_caller]
    pub fn assert_status(&self, status: StatusCode) -> &Self {
        assert_eq!(self.status, status, "body: {}", String::from_utf8_lossy(&self.body));
        self
    }

    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    /// Asserts a Voucherify error body with this status and key.
    #[track_caller]
    pub fn assert_error(&self, status: StatusCode, key: &str) -> Value {
        self.assert_status(status);
        let body = self.json();
        assert_eq!(body["code"], status.as_u16(), "{body}");
        assert_eq!(body["key"], key, "{body}");
        assert!(body["message"].is_string(), "{body}");
        assert!(body["request_id"].as_str().is_some_and(|r| r.starts_with("v-")), "{body}");
        body
    }
}

pub enum Auth<'a> {
    None,
    Management,
    App(&'a Project),
    Raw(Vec<(&'a str, &'a str)>),
}

impl TestApp {
    pub async fn new() -> TestApp {
        Self::with_connections(4).await
    }

    /// An app whose pool holds this many database connections (concurrency tests).
    pub async fn with_connections(n: u32) -> TestApp {
        Self::with_config(n, |_| {}).await
    }

    /// An app with its configuration changed by `change` (timeouts, limits).
    pub async fn with_config(n: u32, change: impl FnOnce(&mut Config)) -> TestApp {
        let db = promo_store::connect(&database_url().await, n).await.expect("connect");
        let mut config = Config::for_tests((MANAGEMENT_ID.into(), MANAGEMENT_TOKEN.into()));
        change(&mut config);
        let state = AppState::new(
            db.clone(),
            config,
            ManagementCredential { id: MANAGEMENT_ID.into(), token_hash: promo_store::hash_token(MANAGEMENT_TOKEN) },
        );
        TestApp { router: promo_api::router(state.clone()), db, state }
    }

    /// Sends a request; `body` is JSON, or raw bytes when it is a string starting with `RAW:`.
    pub async fn request(&self, method: Method, path: &str, auth: Auth<'_>, body: Option<Value>) -> TestResponse {
        let method_name = method.to_string();
        let mut req = Request::builder().method(method).uri(path);
        let headers: Vec<(String, String)> = match auth {
            Auth::None => vec![],
            Auth::Management => vec![
                ("x-management-id".into(), MANAGEMENT_ID.into()),
                ("x-management-token".into(), MANAGEMENT_TOKEN.into()),
            ],
            Auth::App(p) => vec![("x-app-id".into(), p.app_id.clone()), ("x-app-token".into(), p.token.clone())],
            Auth::Raw(h) => h.into_iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect(),
        };
        for (k, v) in headers {
            req = req.header(k, v);
        }
        let body = match body {
            Some(Value::String(s)) if s.starts_with("RAW:") => {
                req = req.header("content-type", "application/json");
                Body::from(s.trim_start_matches("RAW:").to_owned())
            }
            Some(v) => {
                crate::conformance::sample(
                    method_name.as_str(),
                    path,
                    0,
                    "request",
                    &serde_json::to_vec(&v).expect("json"),
                );
                req = req.header("content-type", "application/json");
                Body::from(serde_json::to_vec(&v).expect("json"))
            }
            None => Body::empty(),
        };
        self.send(req.body(body).expect("request")).await
    }

    /// Sends a request built by the test.
    /// Every JSON 2xx response is checked against the served OpenAPI document.
    pub async fn send(&self, req: Request<Body>) -> TestResponse {
        let (method, uri) = (req.method().to_string(), req.uri().to_string());
        let response = self.router.clone().oneshot(req).await.expect("infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.into_body().collect().await.expect("body").to_bytes().to_vec();
        let ct = headers.get("content-type").and_then(|v| v.to_str().ok());
        crate::conformance::assert_conforms(&method, &uri, status.as_u16(), ct, &body);
        TestResponse { status, headers, body }
    }

    pub async fn management(&self, method: Method, path: &str, body: Option<Value>) -> TestResponse {
        self.request(method, path, Auth::Management, body).await
    }

    /// Sends a body with its own content type (uploads).
    pub async fn raw_request(
        &self,
        method: Method,
        path: &str,
        p: &Project,
        content_type: &str,
        body: String,
    ) -> TestResponse {
        let req = Request::builder()
            .method(method)
            .uri(path)
            .header("x-app-id", &p.app_id)
            .header("x-app-token", &p.token)
            .header("content-type", content_type)
            .body(Body::from(body))
            .expect("request");
        self.send(req).await
    }

    /// A client-side POST with the project's client key, from a trusted shop's page (the
    /// project must trust `shop.example.com`).
    pub async fn client_post(&self, p: &Project, path: &str, body: Value) -> TestResponse {
        let headers = vec![
            ("x-client-application-id", p.client_app_id.as_str()),
            ("x-client-token", p.client_token.as_str()),
            ("origin", "https://shop.example.com"),
        ];
        self.request(Method::POST, path, Auth::Raw(headers), Some(body)).await
    }

    pub async fn get(&self, p: &Project, path: &str) -> TestResponse {
        self.request(Method::GET, path, Auth::App(p), None).await
    }

    pub async fn post(&self, p: &Project, path: &str, body: Value) -> TestResponse {
        self.request(Method::POST, path, Auth::App(p), Some(body)).await
    }

    pub async fn put(&self, p: &Project, path: &str, body: Value) -> TestResponse {
        self.request(Method::PUT, path, Auth::App(p), Some(body)).await
    }

    pub async fn delete(&self, p: &Project, path: &str) -> TestResponse {
        self.request(Method::DELETE, path, Auth::App(p), None).await
    }

    /// Changes a project's settings through the management API.
    pub async fn update_project(&self, p: &Project, settings: Value) -> TestResponse {
        self.management(Method::PUT, &format!("/management/v1/projects/{}", p.id), Some(settings)).await
    }

    /// Creates a project through the management API.
    pub async fn project(&self, name: &str) -> Project {
        let r = self.management(Method::POST, "/management/v1/projects", Some(serde_json::json!({"name": name}))).await;
        r.assert_status(StatusCode::OK);
        let b = r.json();
        let s = |v: &Value| v.as_str().expect("string").to_owned();
        Project {
            id: s(&b["id"]),
            app_id: s(&b["server_side_key"]["app_id"]),
            token: s(&b["server_side_key"]["app_token"]),
            client_app_id: s(&b["client_side_key"]["app_id"]),
            client_token: s(&b["client_side_key"]["app_token"]),
        }
    }
}
