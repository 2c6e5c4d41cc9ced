//! The bare hyper server `benches/http.rs` measures `iisim serve` against, alone, for profiling
//! both the same way: `bare_hyper ADDR` serves the bench's fixed body on a default multi-threaded
//! runtime until killed (drive it with `examples/load.rs`).

use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:8080".into());
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    rt.block_on(async move {
        let l = tokio::net::TcpListener::bind(&addr).await.expect("bind");
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
    });
}
