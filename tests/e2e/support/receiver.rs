//! A partner's postback endpoint on loopback: records every request and answers with scripted
//! status codes.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use axum::Router;
use serde_json::Value;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

/// What the receiver got: headers and body of each request.
type Received = Arc<Mutex<Vec<(HeaderMap, String)>>>;
/// Status codes still to answer with, in order.
type Script = Arc<Mutex<VecDeque<u16>>>;

pub struct Receiver {
    pub url: String,
    received: Received,
    script: Script,
}

impl Receiver {
    /// A receiver answering `script`'s codes in order, then 200.
    pub async fn start(script: &[u16]) -> Self {
        let received: Received = Arc::default();
        let script: Script = Arc::new(Mutex::new(script.iter().copied().collect()));
        let app = Router::new()
            .route("/hook", post(answer))
            .with_state((received.clone(), script.clone()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            url,
            received,
            script,
        }
    }

    /// Headers and body of each request so far.
    pub fn requests(&self) -> Vec<(HeaderMap, String)> {
        self.received.lock().expect("lock").clone()
    }

    /// The JSON body of each request so far (null where it was not JSON).
    pub fn bodies(&self) -> Vec<Value> {
        self.received
            .lock()
            .expect("lock")
            .iter()
            .map(|(_, body)| serde_json::from_str(body).unwrap_or(Value::Null))
            .collect()
    }

    /// Whether every scripted code has been answered.
    pub fn script_used_up(&self) -> bool {
        self.script.lock().expect("lock").is_empty()
    }
}

async fn answer(
    State((received, script)): State<(Received, Script)>,
    headers: HeaderMap,
    body: Bytes,
) -> impl IntoResponse {
    received
        .lock()
        .expect("lock")
        .push((headers, String::from_utf8_lossy(&body).into_owned()));
    let code = script.lock().expect("lock").pop_front().unwrap_or(200);
    (StatusCode::from_u16(code).unwrap_or(StatusCode::OK), "ok")
}
