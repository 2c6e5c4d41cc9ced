//! MetaBase.xml import and export of a 30-key server file, and lint of its machine.

use criterion::{black_box, criterion_group, criterion_main, Criterion};

use iisim::metabase::xml;

fn bench(c: &mut Criterion) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/metabase/mixed-server.xml");
    let text = std::fs::read_to_string(&path).expect("fixture");
    let mb = xml::import(&text).expect("imports").metabase;
    // The reader alone, for the ratio: what import adds on top of tokenising the file.
    c.bench_function("quick-xml events of mixed-server.xml (baseline)", |b| {
        b.iter(|| {
            let mut reader = quick_xml::Reader::from_str(black_box(&text));
            let mut n = 0usize;
            loop {
                match reader.read_event() {
                    Ok(quick_xml::events::Event::Eof) | Err(_) => break n,
                    Ok(quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e)) => {
                        n += e
                            .attributes()
                            .filter_map(Result::ok)
                            .map(|a| a.unescape_value().map(|v| v.len()).unwrap_or(0))
                            .sum::<usize>();
                    }
                    Ok(_) => n += 1,
                }
            }
        })
    });
    c.bench_function("import mixed-server.xml (24 KB, 30 keys)", |b| b.iter(|| xml::import(black_box(&text))));
    c.bench_function("export mixed-server.xml (24 KB, 30 keys)", |b| b.iter(|| xml::export(black_box(&mb))));
    let m = iisim::scenario::machine_from_xml(&path).expect("machine");
    c.bench_function("lint mixed-server.xml's machine", |b| b.iter(|| iisim::lint::lint(black_box(&m))));
}

criterion_group!(benches, bench);
criterion_main!(benches);
