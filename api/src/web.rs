//! The web storefront: the single-page app built into `web/dist` (`make web`) served at `/`.
//!
//! Every path outside the API's own (`/v1/…`, `/healthz`, `/readyz`, `/metrics`) is the web
//! app's: `/assets/<name>-<hash>.<ext>` are Vite's content-hashed files, cached for a year
//! (`immutable`); a top-level file of `dist/` (`/favicon.svg`) is served as is; any other path
//! answers `index.html` (the app routes in the browser), never cached so a deploy is seen at
//! once. Every web response carries a strict Content-Security-Policy: scripts only from this
//! origin and the configured Stripe.js origin, no inline script, connections to the same two.
//!
//! Files are read from disk per request (the bundle is a few hundred kB; the OS caches it), and
//! only names made of `[A-Za-z0-9._-]` segments not starting with a dot are looked up, so no
//! request can leave the folder. A missing `dist/` is a log line at startup, not an error: the
//! API then serves its routes only.

use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use tower::ServiceExt;

/// `Cache-Control` of the content-hashed `/assets/*`.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// `Cache-Control` of `index.html` and the other unhashed files.
pub const NO_CACHE: &str = "no-cache";

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
         base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

#[derive(Debug)]
struct Site {
    dir: PathBuf,
    csp: HeaderValue,
}

/// A relative file name safe to look up under the site's folder: `/`-separated segments of
/// `[A-Za-z0-9._-]`, none empty or starting with a dot.
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

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        "wasm" => "application/wasm",
        _ => "application/octet-stream",
    }
}

impl Site {
    fn response(&self, status: StatusCode) -> axum::http::response::Builder {
        Response::builder()
            .status(status)
            .header(header::CONTENT_SECURITY_POLICY, self.csp.clone())
            .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
            .header(header::REFERRER_POLICY, "no-referrer")
    }

    async fn file(&self, file: &Path, cache: &'static str, head: bool) -> Option<Response> {
        match tokio::fs::read(file).await {
            Ok(bytes) => {
                let len = bytes.len();
                let body = if head {
                    Body::empty()
                } else {
                    Body::from(bytes)
                };
                self.response(StatusCode::OK)
                    .header(header::CONTENT_TYPE, content_type(file))
                    .header(header::CONTENT_LENGTH, len.to_string())
                    .header(header::CACHE_CONTROL, cache)
                    .body(body)
                    .ok()
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) if e.kind() == std::io::ErrorKind::IsADirectory => None,
            Err(e) => {
                tracing::error!(target: "tangible::api::web", file = %file.display(), error = %e, "reading a web file");
                self.plain(StatusCode::INTERNAL_SERVER_ERROR, "cannot read the file")
                    .into()
            }
        }
    }

    fn plain(&self, status: StatusCode, text: &'static str) -> Response {
        self.response(status)
            .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
            .header(header::CACHE_CONTROL, NO_CACHE)
            .body(Body::from(text))
            .expect("static response")
    }

    async fn serve(&self, req: Request) -> Response {
        let head = req.method() == Method::HEAD;
        if req.method() != Method::GET && !head {
            let mut r = self.plain(StatusCode::METHOD_NOT_ALLOWED, "method not allowed");
            r.headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
            return r;
        }
        let path = req.uri().path();
        if let Some(rel) = path.strip_prefix("/assets/") {
            // A hashed asset exists or is a 404: never index.html in its place (a stale page
            // asking for an old bundle must fail loudly, not parse HTML as JavaScript).
            if safe_relative(rel)
                && let Some(r) = self
                    .file(&self.dir.join("assets").join(rel), IMMUTABLE, head)
                    .await
            {
                return r;
            }
            return self.plain(StatusCode::NOT_FOUND, "no such asset");
        }
        let rel = path.trim_start_matches('/');
        if rel != "index.html"
            && !rel.contains('/')
            && safe_relative(rel)
            && let Some(r) = self.file(&self.dir.join(rel), NO_CACHE, head).await
        {
            return r;
        }
        match self
            .file(&self.dir.join("index.html"), NO_CACHE, head)
            .await
        {
            Some(r) => r,
            None => self.plain(
                StatusCode::SERVICE_UNAVAILABLE,
                "the web app is not built (make web)",
            ),
        }
    }
}

/// `api` with the web app of `dir` served on every other path, or `api` unchanged (and a log
/// line saying why) when `dir/index.html` does not exist.
pub fn with_web(api: Router, dir: &Path, stripe_js_url: &str) -> Router {
    if !dir.join("index.html").is_file() {
        tracing::warn!(target: "tangible::api::web", dir = %dir.display(),
            "web storefront not served: no index.html in the web folder (build it with `make web`, or set TANGIBLE_API_WEB_DIR)");
        return api;
    }
    let csp = HeaderValue::from_str(&content_security_policy(stripe_js_url))
        .expect("the policy is built from a parsed URL origin");
    tracing::info!(target: "tangible::api::web", dir = %dir.display(), "serving the web storefront at /");
    let site = Arc::new(Site {
        dir: dir.to_path_buf(),
        csp,
    });
    Router::new().fallback_service(tower::service_fn(move |req: Request| {
        let api = api.clone();
        let site = site.clone();
        async move {
            if is_api_path(req.uri().path()) {
                api.oneshot(req).await
            } else {
                Ok::<_, Infallible>(site.serve(req).await)
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
        std::fs::write(dist.join("favicon.svg"), "<svg/>").unwrap();
        std::fs::write(dist.join(".env"), "SECRET=1").unwrap();
        std::fs::write(tmp.path().join("secret.txt"), "SECRET=2").unwrap();
        let api = Router::new()
            .route("/v1/films", get(|| async { "films" }))
            .route("/healthz", get(|| async { "ok" }))
            .fallback(|| async { (StatusCode::NOT_FOUND, "api 404") });
        let app = with_web(api, &dist, STRIPE_JS);
        (tmp, app)
    }

    async fn get_path(app: &Router, path: &str) -> (StatusCode, axum::http::HeaderMap, String) {
        let res = app
            .clone()
            .oneshot(axum::http::Request::get(path).body(Body::empty()).unwrap())
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
        let (status, _, body) = get_path(&app, "/assets/index-old.js").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(!body.contains("<title>"));
        let (status, headers, body) = get_path(&app, "/favicon.svg").await;
        assert_eq!((status, body.as_str()), (StatusCode::OK, "<svg/>"));
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
