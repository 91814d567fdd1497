// Ad-hoc: where a run's recording time goes on a week file. Not committed.
use balances_history::{Measure, Reading, Retention, SeriesKey, Store};
use rust_decimal::Decimal;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

fn main() {
    let n: usize = std::env::args().nth(1).map_or(1100, |a| a.parse().unwrap());
    let days: i64 = std::env::args().nth(2).map_or(7, |a| a.parse().unwrap());
    let path = std::path::PathBuf::from(
        std::env::args()
            .nth(3)
            .unwrap_or("/tmp/rp/week.sqlite3".into()),
    );
    let series: Vec<Reading> = (0..n)
        .map(|i| Reading {
            key: SeriesKey {
                account: format!("bulk-{i:05}"),
                vendor: "deepseek".into(),
                measure: Measure::Currency,
                code: "CNY".into(),
            },
            total: Decimal::new(123456, 2),
            granted: Some(Decimal::new(100, 2)),
            topped_up: None,
        })
        .collect();
    let step = 300_000i64;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    if !path.exists() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let t = Instant::now();
        let mut store = Store::open(&path).unwrap();
        store
            .connection()
            .execute_batch("PRAGMA cache_size=-262144")
            .unwrap();
        let mut at = now - days * 86_400_000;
        let mut k = 0;
        let mut batch = vec![];
        while at < now {
            for r in &series {
                let mut r = r.clone();
                r.total -= Decimal::new(k, 2);
                batch.push((at, r));
            }
            at += step;
            k += 1;
            if k % 12 == 0 {
                store.record_readings(&batch).unwrap();
                batch.clear();
            }
        }
        store.record_readings(&batch).unwrap();
        store
            .connection()
            .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
            .unwrap();
        eprintln!("fill {:?}", t.elapsed());
    }
    let copy = path.with_extension("run");
    std::fs::copy(&path, &copy).unwrap();
    for round in 0..13i64 {
        let at = now + round * step;
        let t0 = Instant::now();
        let mut store = Store::open(&copy).unwrap();
        let t1 = t0.elapsed();
        let batch: Vec<(i64, Reading)> = series.iter().map(|r| (at, r.clone())).collect();
        store
            .record_with_window_ends(&batch, Duration::from_secs(7 * 86400))
            .unwrap();
        let t2 = t0.elapsed();
        let thinned = store
            .thin_if_due(
                UNIX_EPOCH + Duration::from_millis(at as u64),
                &Retention::default(),
            )
            .unwrap();
        let t3 = t0.elapsed();
        drop(store);
        let t4 = t0.elapsed();
        println!(
            "round {round}: open {:.1} record {:.1} thin {:.1} ({thinned:?}) close {:.1} total {:.1} ms",
            ms(t1),
            ms(t2 - t1),
            ms(t3 - t2),
            ms(t4 - t3),
            ms(t4)
        );
    }
}
fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
