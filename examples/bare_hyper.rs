//! The bare hyper server `benches/http.rs` measures `iisim serve` against, alone, for profiling
//! both the same way: `bare_hyper ADDR` serves the bench's fixed body on a default multi-threaded
//! runtime until killed (drive it with `examples/load.rs`).

#[path = "../tests/common/bare_hyper.rs"]
mod bare_hyper;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:8080".into());
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    rt.block_on(async move { bare_hyper::serve(tokio::net::TcpListener::bind(&addr).await.expect("bind")).await });
}
