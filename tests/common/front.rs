//! A small HTTP front for the real registry, for faults and features distribution 2.8 lacks:
//! each request goes to `intercept` first (which may answer it), else to the registry; `observe`
//! sees every forwarded request with the registry's status and may add response headers.
//! Host is kept, so the registry's upload Locations point back at the front.

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use std::sync::Arc;

pub type Intercept =
    dyn Fn(&Method, &str, Option<&str>, &HeaderMap) -> Option<Response> + Send + Sync;
pub type Observe = dyn Fn(&Method, &str, &[u8], StatusCode) -> Vec<(String, String)> + Send + Sync;

#[derive(Clone)]
struct Front {
    upstream: String,
    intercept: Arc<Intercept>,
    observe: Arc<Observe>,
}

async fn handle(State(front): State<Front>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().to_string();
    if let Some(answer) = (front.intercept)(&parts.method, &path, parts.uri.query(), &parts.headers)
    {
        return answer;
    }
    let body: Bytes = axum::body::to_bytes(body, 256 << 20)
        .await
        .unwrap_or_default();
    let url = format!(
        "http://{}{}",
        front.upstream,
        parts
            .uri
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/")
    );
    let mut headers = HeaderMap::new();
    for (k, v) in &parts.headers {
        headers.insert(k.clone(), v.clone());
    }
    let Ok(upstream) = reqwest::Client::new()
        .request(parts.method.clone(), url)
        .headers(headers)
        .body(body.clone())
        .send()
        .await
    else {
        return Response::builder()
            .status(StatusCode::BAD_GATEWAY)
            .body(Body::empty())
            .unwrap();
    };
    let status = upstream.status();
    let mut response = Response::builder().status(status);
    for (k, v) in upstream.headers() {
        response = response.header(k, v);
    }
    for (k, v) in (front.observe)(&parts.method, &path, &body, status) {
        response = response.header(k, v);
    }
    response
        .body(Body::from(upstream.bytes().await.unwrap_or_default()))
        .unwrap()
}

/// Starts a front on 127.0.0.1; returns its host:port.
pub fn start(upstream: String, intercept: Arc<Intercept>, observe: Arc<Observe>) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let state = Front {
        upstream,
        intercept,
        observe,
    };
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(
                listener,
                axum::Router::new().fallback(handle).with_state(state),
            )
            .await
            .unwrap();
        });
    });
    addr
}
