//! A whole request through the process model on a warm worker next to its resolution alone, on
//! the same machine and URL, in one run: `serve/process_model` and `serve/resolve` on the serve
//! path (`iisim serve`: no decision recorded; the answer keeps the page as its parts),
//! `serve/process_model_served` the same with the owned reply built (headers, body, target, as a
//! scenario's request step has it), `serve/process_model_reply` what `iisim serve` does for one
//! request (resolution, the process model, the reply written into the room of the last one),
//! `serve/process_model_explain` and `serve/resolve_explain` with every decision recorded
//! (scenarios, explain, transcripts).

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use iisim::dispatch::{resolve, resolve_fast, Decision, Discard, Reply};
use iisim::process;

#[path = "../tests/common/warm_worker.rs"]
mod warm_worker;

fn bench(c: &mut Criterion) {
    let (m, view, mut w, req, load) = warm_worker::warm_worker();
    let mut g = c.benchmark_group("serve");
    g.bench_function("resolve", |b| b.iter(|| resolve_fast(black_box(&view), black_box(&req)).status()));
    g.bench_function("process_model", |b| {
        b.iter(|| {
            // The world's view, checked against the machine's generation as every request is.
            let status = process::with_view(&m, &mut w, |w, v| {
                process::answer::<Discard>(black_box(&m), black_box(w), v, black_box(&req), &load).status()
            });
            w.drain_effects();
            status
        })
    });
    g.bench_function("process_model_served", |b| {
        b.iter(|| {
            let s = process::serve_with::<Discard>(black_box(&m), black_box(&mut w), black_box(&req), &load);
            w.drain_effects();
            s
        })
    });
    g.bench_function("process_model_reply", |b| {
        let mut reply = Reply::default();
        let prepared = process::prepare(&m, &view, &req);
        let status = process::serve_prepared(&m, &mut w, prepared, &load).reply_into(&mut reply).status;
        assert_eq!((status, reply.body.is_empty()), (200, false), "the warm worker answers the page");
        w.drain_effects();
        b.iter(|| {
            let prepared = process::prepare(black_box(&m), black_box(&view), black_box(&req));
            let answer = process::serve_prepared(black_box(&m), black_box(&mut w), prepared, &load);
            let summary = answer.reply_into(&mut reply);
            w.drain_effects();
            summary.status
        })
    });
    g.bench_function("resolve_explain", |b| b.iter(|| resolve(black_box(&view), black_box(&req))));
    g.bench_function("process_model_explain", |b| {
        b.iter(|| {
            let s = process::serve_with::<Vec<Decision>>(black_box(&m), black_box(&mut w), black_box(&req), &load);
            w.drain_effects();
            s
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
