//! The bare hyper server `iisim serve` is measured against (`benches/http.rs`) and profiled beside
//! (`examples/bare_hyper.rs`): one fixed body, hyper's defaults.

use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;

/// Serves the fixed body on every connection `l` accepts, one task per connection.
pub async fn serve(l: tokio::net::TcpListener) {
    loop {
        let Ok((s, _)) = l.accept().await else { continue };
        let _ = s.set_nodelay(true);
        tokio::spawn(async move {
            let svc = service_fn(|_req| async {
                Ok::<_, Infallible>(hyper::Response::new(Full::new(Bytes::from_static(
                    b"<html><body>ASP.NET 1.1.4322 ran /shop/default.aspx</body></html>",
                ))))
            });
            let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(s), svc).await;
        });
    }
}
