//! Anomaly detection's false positives: 30 days of a steady shop's traffic in 5-minute windows
//! (volume rising and falling with the day, every rate and count random around a constant),
//! judged with the default thresholds. Nothing in it is an attack, so every anomaly found is a
//! false one. Then the same shop with one window of declines from an attacker, to show the
//! detector is not quiet because it is deaf. `cargo xtask bench` runs this; the figures are
//! printed, not asserted (the unit tests assert behaviour).

use paylater_edge::anomaly::{Metric, Signal, Thresholds, Watch};

const WINDOW_MS: i64 = 5 * 60_000;
const GRACE_MS: i64 = 60_000;
const DAYS: i64 = 30;

/// xorshift64*: a fixed seed gives the same run every time.
struct Random(u64);

impl Random {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
    }

    fn chance(&mut self, p: f64) -> bool {
        self.next() < p
    }

    /// Knuth's method, fine for the means used here (< 500).
    fn poisson(&mut self, mean: f64) -> u64 {
        let limit = (-mean).exp();
        let (mut k, mut product) = (0, self.next());
        while product > limit {
            k += 1;
            product *= self.next();
        }
        k
    }
}

fn count(watch: &mut Watch, window: i64, metric: Metric, n: u64) {
    for _ in 0..n {
        watch.add(window, &[Signal { metric, hit: true }], None, 1);
    }
}

/// One window of a steady shop at `volume` (1 = its daily mean).
fn steady_window(watch: &mut Watch, random: &mut Random, window: i64, volume: f64) {
    for _ in 0..random.poisson(40.0 * volume) {
        let declined = random.chance(0.15);
        let review = !declined && random.chance(0.05);
        // Most customers try once; a few twice or three times.
        let attempts = if random.chance(0.01) {
            3
        } else if random.chance(0.05) {
            2
        } else {
            1
        };
        let signals = [
            Signal {
                metric: Metric::DeclineRate,
                hit: declined,
            },
            Signal {
                metric: Metric::ReviewRate,
                hit: review,
            },
        ];
        watch.add(window, &signals, Some(attempts), 1);
    }
    for _ in 0..random.poisson(400.0 * volume) {
        let signal = Signal {
            metric: Metric::WidgetErrorRate,
            hit: random.chance(0.005),
        };
        watch.add(window, &[signal], None, 1);
    }
    for (metric, mean) in [
        (Metric::RefusedTokens, 1.0),
        (Metric::RateLimited, 0.3),
        (Metric::VelocityFlags, 2.0),
        (Metric::TokenReused, 0.2),
        (Metric::AutomatedAgent, 1.5),
    ] {
        let n = random.poisson(mean * volume);
        count(watch, window, metric, n);
    }
}

fn volume_at(window: i64) -> f64 {
    let day_fraction = (window % 86_400_000) as f64 / 86_400_000.0;
    0.6 + 0.4 * (std::f64::consts::TAU * day_fraction).sin()
}

fn main() {
    let thresholds = Thresholds::default();
    let mut watch = Watch::new(WINDOW_MS);
    let mut random = Random(0x9e37_79b9_7f4a_7c15);
    let windows = DAYS * 86_400_000 / WINDOW_MS;
    let mut false_positives = Vec::new();
    for i in 0..windows {
        let window = i * WINDOW_MS;
        steady_window(&mut watch, &mut random, window, volume_at(window));
        let (_, found) = watch.close_due(window + WINDOW_MS + GRACE_MS, GRACE_MS, &thresholds);
        false_positives.extend(found);
    }
    let judged = (windows - i64::from(thresholds.warmup_windows)) * Metric::ALL.len() as i64;
    println!("anomaly detection, {DAYS} steady days in 5-minute windows ({windows} windows, 9 metrics):");
    println!(
        "  false positives: {} of {judged} metric-windows judged ({:.5}%)",
        false_positives.len(),
        100.0 * false_positives.len() as f64 / judged as f64
    );
    for anomaly in &false_positives {
        println!(
            "    {} at window {}: expected {:.3}, observed {:.3}, score {:.1}",
            anomaly.metric.as_str(),
            anomaly.window_start_ms / WINDOW_MS,
            anomaly.expected,
            anomaly.observed,
            anomaly.score
        );
    }
    // The same shop, then one window where an attacker adds 20 declined applications.
    let window = windows * WINDOW_MS;
    steady_window(&mut watch, &mut random, window, volume_at(window));
    for _ in 0..20 {
        let signals = [
            Signal {
                metric: Metric::DeclineRate,
                hit: true,
            },
            Signal {
                metric: Metric::ReviewRate,
                hit: false,
            },
        ];
        watch.add(window, &signals, Some(1), 1);
    }
    let (_, found) = watch.close_due(window + WINDOW_MS + GRACE_MS, GRACE_MS, &thresholds);
    let flagged: Vec<&str> = found.iter().map(|a| a.metric.as_str()).collect();
    println!("  then 20 extra declines in one window: flagged {flagged:?}");
}
