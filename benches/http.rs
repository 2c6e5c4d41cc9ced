//! Requests per second of `iisim serve` next to a bare hyper server answering a fixed body, both
//! driven by the same client loop: 4 keep-alive loopback connections, 250 requests each
//! (`tests/common/http_drive.rs`). `examples/http_pairs.rs` runs the same loop alternating
//! between the two servers, for a ratio less exposed to the machine's drift between the IDs.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

#[path = "../tests/common/http_drive.rs"]
mod http_drive;
use http_drive::{drive, Servers, CONNECTIONS, PER_CONNECTION};

// The allocator `iisim serve` runs with (emulator/main.rs), for both servers alike.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn bench(c: &mut Criterion) {
    let servers = Servers::start();
    let mut g = c.benchmark_group("http");
    g.throughput(Throughput::Elements((CONNECTIONS * PER_CONNECTION) as u64));
    g.sample_size(20);
    g.bench_function("iisim", |b| b.iter(|| drive(servers.iisim, PER_CONNECTION)));
    g.bench_function("hyper", |b| b.iter(|| drive(servers.hyper, PER_CONNECTION)));
    g.finish();
    servers.stop();
}

criterion_group!(benches, bench);
criterion_main!(benches);
