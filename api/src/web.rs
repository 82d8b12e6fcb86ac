//! The web storefront: the single-page app built into `web/dist` (`make web`) served at `/`.
//!
//! Every path outside the API's own (`/v1/…`, `/healthz`, `/readyz`, `/metrics`) is the web
//! app's: `/assets/<name>-<hash>.<ext>` are Vite's content-hashed files, cached for a year
//! (`immutable`); a top-level file of `dist/` (`/favicon.svg`) is served as is; any other path
//! answers `index.html` (the app routes in the browser), never cached so a deploy is seen at
//! once. Every web response carries a strict Content-Security-Policy: scripts only from this
//! origin and the configured Stripe.js origin, no inline script, connections to the same two.
//!
//! `/sw.js` is the app's service worker (it plays downloaded films and keeps the app shell for
//! offline use): a stable name at the root so its scope is the whole site, never cached (a
//! browser checks it for updates on every navigation) and a 404 when missing — never
//! `index.html`. The policy allows it (`worker-src 'self'`) and the player's `<video>`, whose
//! source is a same-origin URL the worker answers (`media-src 'self'`).
//!
//! Files are served by tower-http's `ServeDir`; only names made of `[A-Za-z0-9._-]` segments
//! not starting with a dot reach it, so no request can leave the folder or read a hidden file. A missing `dist/` is a log line at startup, not an error: the
//! API then serves its routes only.

use std::convert::Infallible;
use std::path::Path;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use tower::{ServiceBuilder, ServiceExt};
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;

/// `Cache-Control` of the content-hashed `/assets/*`.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// `Cache-Control` of `index.html` and the other unhashed files.
pub const NO_CACHE: &str = "no-cache";
/// The service worker's file name under the site's folder, served at `/sw.js`.
pub const SERVICE_WORKER: &str = "sw.js";

/// Whether `path` belongs to the API (and never to the web app).
pub fn is_api_path(path: &str) -> bool {
    path == "/v1" || path.starts_with("/v1/") || matches!(path, "/healthz" | "/readyz" | "/metrics")
}

/// The origin (`scheme://host[:port]`) of the Stripe.js URL, or `None` if it is not an
/// absolute http(s) URL.
pub fn stripe_origin(stripe_js_url: &str) -> Option<String> {
    let url = reqwest::Url::parse(stripe_js_url).ok()?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return None;
    }
    Some(url.origin().ascii_serialization())
}

/// The Content-Security-Policy of the web app: its own scripts and styles, Stripe.js from the
/// configured origin (and, for the real Stripe.js, the API and frames Stripe documents), no
/// inline script, no plugins, no framing by other sites.
pub fn content_security_policy(stripe_js_url: &str) -> String {
    let js = stripe_origin(stripe_js_url).unwrap_or_default();
    let (connect, frame) = if js == "https://js.stripe.com" {
        // Stripe's documented CSP for Stripe.js: its API, and its frames (card element, 3DS).
        (
            format!("{js} https://api.stripe.com"),
            format!("{js} https://hooks.stripe.com"),
        )
    } else {
        (js.clone(), js.clone())
    };
    format!(
        "default-src 'none'; script-src 'self' {js}; connect-src 'self' {connect}; \
         frame-src {frame}; img-src 'self' data:; style-src 'self'; font-src 'self'; \
         media-src 'self'; worker-src 'self'; \
         base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// A relative file name safe to look up under the site's folder: `/`-separated segments of
/// `[A-Za-z0-9._-]`, none empty or starting with a dot (no hidden file, no percent-escape that
/// could decode to one; `ServeDir` already refuses `..`).
fn safe_relative(rel: &str) -> bool {
    !rel.is_empty()
        && rel.split('/').all(|seg| {
            !seg.is_empty()
                && !seg.starts_with('.')
                && seg
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        })
}

/// `Cache-Control` for a file service: `ok` on a served file, [`NO_CACHE`] on anything else (a
/// 404 of a hashed asset must not be cached for a year).
fn cache_control<B>(
    ok: &'static str,
) -> SetResponseHeaderLayer<impl Fn(&axum::http::Response<B>) -> Option<HeaderValue> + Clone> {
    SetResponseHeaderLayer::overriding(
        header::CACHE_CONTROL,
        move |res: &axum::http::Response<B>| {
            Some(HeaderValue::from_static(if res.status().is_success() {
                ok
            } else {
                NO_CACHE
            }))
        },
    )
}

/// `api` with the web app of `dir` served on every other path, or `api` unchanged (and a log
/// line saying why) when `dir/index.html` does not exist. Files are served by tower-http's
/// `ServeDir` (content types, `HEAD`, ranges, `ETag`/`Last-Modified`, `405` for other methods);
/// this module decides which paths reach it and the headers around it.
pub fn with_web(api: Router, dir: &Path, stripe_js_url: &str) -> Router {
    let index_file = dir.join("index.html");
    if !index_file.is_file() {
        tracing::warn!(target: "tangible::api::web", dir = %dir.display(),
            "web storefront not served: no index.html in the web folder (build it with `make web`, or set TANGIBLE_API_WEB_DIR)");
        return api;
    }
    let csp = HeaderValue::from_str(&content_security_policy(stripe_js_url))
        .expect("the policy is built from a parsed URL origin");
    tracing::info!(target: "tangible::api::web", dir = %dir.display(), "serving the web storefront at /");
    // A hashed asset exists or is a 404: never index.html in its place (a stale page asking for
    // an old bundle must fail loudly, not parse HTML as JavaScript).
    let assets = ServiceBuilder::new()
        .layer(cache_control(IMMUTABLE))
        // `make web` writes `<asset>.gz` beside each script and style sheet: sent as is
        // (`Content-Encoding: gzip`, `Vary: Accept-Encoding`) to clients that accept it.
        .service(ServeDir::new(dir.join("assets")).precompressed_gzip());
    let index = ServiceBuilder::new()
        .layer(cache_control(NO_CACHE))
        .service(ServeFile::new(&index_file));
    // Top-level files of dist/ (`/favicon.svg`) as they are; any other path is the app's route.
    let top = ServiceBuilder::new()
        .layer(cache_control(NO_CACHE))
        .service(ServeDir::new(dir).fallback(ServeFile::new(&index_file)));
    // The service worker: its file or a 404 (a page must never register index.html as one).
    let worker = ServiceBuilder::new()
        .layer(cache_control(NO_CACHE))
        .service(ServeFile::new(dir.join(SERVICE_WORKER)));
    let site = Router::new()
        .nest_service(
            "/assets",
            tower::service_fn(move |req: Request| {
                let assets = assets.clone();
                async move {
                    // Nested: the path here is the part after `/assets`.
                    let rel = req.uri().path().trim_start_matches('/');
                    if safe_relative(rel) {
                        Ok::<_, Infallible>(assets.oneshot(req).await?.map(Body::new))
                    } else {
                        Ok(StatusCode::NOT_FOUND.into_response())
                    }
                }
            }),
        )
        .fallback_service(tower::service_fn(move |req: Request| {
            let (top, index, worker) = (top.clone(), index.clone(), worker.clone());
            async move {
                let rel = req.uri().path().trim_start_matches('/');
                let response = if rel == SERVICE_WORKER {
                    worker.oneshot(req).await?.map(Body::new)
                } else if !rel.contains('/') && safe_relative(rel) {
                    top.oneshot(req).await?.map(Body::new)
                } else {
                    index.oneshot(req).await?.map(Body::new)
                };
                Ok::<_, Infallible>(response)
            }
        }))
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            csp,
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ));
    Router::new().fallback_service(tower::service_fn(move |req: Request| {
        let (api, site) = (api.clone(), site.clone());
        async move {
            if is_api_path(req.uri().path()) {
                api.oneshot(req).await
            } else {
                site.oneshot(req).await
            }
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::get;

    const STRIPE_JS: &str = "http://127.0.0.1:8420/js.stripe.com/v3/";

    /// `<tmp>/dist` holds the app (and a hidden `.env`); `<tmp>/secret.txt` lies outside it.
    fn site() -> (tempfile::TempDir, Router) {
        let tmp = tempfile::tempdir().unwrap();
        let dist = tmp.path().join("dist");
        std::fs::create_dir_all(dist.join("assets")).unwrap();
        std::fs::write(
            dist.join("index.html"),
            "<!doctype html><title>shop</title>",
        )
        .unwrap();
        std::fs::write(dist.join("assets/index-AbC123.js"), "console.log(1)").unwrap();
        std::fs::write(dist.join("assets/index-AbC123.js.gz"), GZIPPED).unwrap();
        std::fs::write(dist.join("favicon.svg"), "<svg/>").unwrap();
        std::fs::write(
            dist.join("sw.js"),
            "self.addEventListener('fetch', () => {})",
        )
        .unwrap();
        std::fs::write(dist.join(".env"), "SECRET=1").unwrap();
        std::fs::write(tmp.path().join("secret.txt"), "SECRET=2").unwrap();
        let api = Router::new()
            .route("/v1/films", get(|| async { "films" }))
            .route("/healthz", get(|| async { "ok" }))
            .fallback(|| async { (StatusCode::NOT_FOUND, "api 404") });
        let app = with_web(api, &dist, STRIPE_JS);
        (tmp, app)
    }

    /// `console.log(1)` gzipped (`printf 'console.log(1)' | gzip -9n`).
    const GZIPPED: &[u8] = &[
        0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0x4b, 0xce, 0xcf, 0x2b, 0xce,
        0xcf, 0x49, 0xd5, 0xcb, 0xc9, 0x4f, 0xd7, 0x30, 0xd4, 0x04, 0x00, 0x68, 0xfe, 0x01, 0x43,
        0x0e, 0x00, 0x00, 0x00,
    ];

    async fn get_path(app: &Router, path: &str) -> (StatusCode, axum::http::HeaderMap, String) {
        get_with(app, path, None).await
    }

    async fn get_with(
        app: &Router,
        path: &str,
        accept_encoding: Option<&str>,
    ) -> (StatusCode, axum::http::HeaderMap, String) {
        let mut req = axum::http::Request::get(path);
        if let Some(enc) = accept_encoding {
            req = req.header(header::ACCEPT_ENCODING, enc);
        }
        let res = app
            .clone()
            .oneshot(req.body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let body = axum::body::to_bytes(res.into_body(), 1 << 20)
            .await
            .unwrap();
        (status, headers, String::from_utf8_lossy(&body).into_owned())
    }

    #[tokio::test]
    async fn spa_fallback_is_index_html_uncached_with_a_strict_policy() {
        let (_dir, app) = site();
        for path in ["/", "/films/1", "/library", "/checkout/x?y=1"] {
            let (status, headers, body) = get_path(&app, path).await;
            assert_eq!(status, StatusCode::OK, "{path}");
            assert!(body.contains("<title>shop</title>"), "{path}: {body}");
            assert_eq!(headers[header::CACHE_CONTROL], NO_CACHE, "{path}");
            assert!(
                headers[header::CONTENT_TYPE]
                    .to_str()
                    .unwrap()
                    .starts_with("text/html")
            );
            let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
            assert!(
                csp.contains("script-src 'self' http://127.0.0.1:8420;"),
                "{csp}"
            );
            assert!(
                csp.contains("connect-src 'self' http://127.0.0.1:8420;"),
                "{csp}"
            );
            assert!(csp.contains("default-src 'none'"), "{csp}");
            assert!(
                !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
                "{csp}"
            );
        }
    }

    #[tokio::test]
    async fn hashed_assets_are_immutable_and_missing_ones_are_404_not_html() {
        let (_dir, app) = site();
        let (status, headers, body) = get_path(&app, "/assets/index-AbC123.js").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body, "console.log(1)");
        assert_eq!(headers[header::CACHE_CONTROL], IMMUTABLE);
        assert!(
            headers[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("text/javascript")
        );
        // A browser that accepts gzip gets the precompressed file, still immutable and typed.
        let (status, headers, body) =
            get_with(&app, "/assets/index-AbC123.js", Some("gzip, deflate, br")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers[header::CONTENT_ENCODING], "gzip");
        assert_eq!(headers[header::CACHE_CONTROL], IMMUTABLE);
        assert!(
            headers[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("text/javascript")
        );
        assert_eq!(
            body,
            String::from_utf8_lossy(GZIPPED),
            "the .gz file as it is"
        );
        let (_, headers, body) = get_with(&app, "/assets/index-AbC123.js", Some("identity")).await;
        assert_eq!(body, "console.log(1)");
        assert!(headers.get(header::CONTENT_ENCODING).is_none());
        let (status, _, body) = get_path(&app, "/assets/index-old.js").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(!body.contains("<title>"));
        let (status, headers, body) = get_path(&app, "/favicon.svg").await;
        assert_eq!((status, body.as_str()), (StatusCode::OK, "<svg/>"));
        assert_eq!(headers[header::CACHE_CONTROL], NO_CACHE);
    }

    #[tokio::test]
    async fn the_service_worker_is_served_uncached_at_the_root_and_allowed_by_the_policy() {
        let (dir, app) = site();
        let (status, headers, body) = get_path(&app, "/sw.js").await;
        assert_eq!(status, StatusCode::OK);
        assert!(body.starts_with("self.addEventListener"), "{body}");
        assert_eq!(headers[header::CACHE_CONTROL], NO_CACHE);
        assert!(
            headers[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("text/javascript")
        );
        let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(csp.contains("worker-src 'self';"), "{csp}");
        assert!(csp.contains("media-src 'self';"), "{csp}");
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        // The page's own policy lets it register the worker and play the worker's stream.
        let (_, headers, _) = get_path(&app, "/library").await;
        let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(
            csp.contains("worker-src 'self';") && csp.contains("media-src 'self';"),
            "{csp}"
        );
        // Without a built worker: a 404, not index.html served as a script.
        std::fs::remove_file(dir.path().join("dist/sw.js")).unwrap();
        let (status, headers, body) = get_path(&app, "/sw.js").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(!body.contains("<title>"), "{body}");
        assert_eq!(headers[header::CACHE_CONTROL], NO_CACHE);
    }

    #[tokio::test]
    async fn nothing_outside_the_folder_or_hidden_is_served() {
        let (_dir, app) = site();
        for path in [
            "/assets/../.env",
            "/assets/../../secret.txt",
            "/assets/%2e%2e/%2e%2e/secret.txt",
            "/assets/..%2F..%2Fsecret.txt",
            "/../secret.txt",
            "/.env",
            "/assets/.env",
        ] {
            let (_, _, body) = get_path(&app, path).await;
            assert!(!body.contains("SECRET"), "{path}: {body}");
        }
        let (status, _, _) = get_path(&app, "/assets/../../secret.txt").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }

    #[tokio::test]
    async fn api_paths_are_untouched() {
        let (_dir, app) = site();
        let (status, headers, body) = get_path(&app, "/v1/films").await;
        assert_eq!((status, body.as_str()), (StatusCode::OK, "films"));
        assert!(headers.get(header::CONTENT_SECURITY_POLICY).is_none());
        let (status, _, body) = get_path(&app, "/v1/nope").await;
        assert_eq!((status, body.as_str()), (StatusCode::NOT_FOUND, "api 404"));
        let (_, _, body) = get_path(&app, "/healthz").await;
        assert_eq!(body, "ok");
        let res = app
            .clone()
            .oneshot(
                axum::http::Request::post("/films/1")
                    .body(Body::from("x"))
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    }

    #[tokio::test]
    async fn without_a_built_app_the_api_alone_is_served() {
        let dir = tempfile::tempdir().unwrap();
        let api = Router::new().fallback(|| async { (StatusCode::NOT_FOUND, "api 404") });
        let app = with_web(api, &dir.path().join("dist"), STRIPE_JS);
        let (status, _, body) = get_path(&app, "/").await;
        assert_eq!((status, body.as_str()), (StatusCode::NOT_FOUND, "api 404"));
    }

    #[test]
    fn policy_for_the_real_stripe_js_names_its_api_and_frames() {
        let csp = content_security_policy("https://js.stripe.com/v3/");
        assert!(csp.contains("script-src 'self' https://js.stripe.com;"));
        assert!(csp.contains("connect-src 'self' https://js.stripe.com https://api.stripe.com;"));
        assert!(csp.contains("frame-src https://js.stripe.com https://hooks.stripe.com;"));
        assert_eq!(stripe_origin("javascript:alert(1)"), None);
        assert_eq!(stripe_origin("not a url"), None);
    }
}
