//! `dialer-sim`: progressive vs predictive pacing on the same seeded traffic; prints the
//! figures recorded in docs/benchmarks.md.
//!
//! `cargo run --release -p hotline-dialer --bin dialer-sim`

use hotline_dialer::{sim, Mode};

fn main() {
    println!("agents answer% handle_s | mode        placed answered abandoned abandon%  occupancy  connects/agent-h");
    for (agents, answer_rate, handle) in [(10, 0.25, 120.0), (20, 0.35, 180.0), (50, 0.20, 240.0)] {
        for mode in [Mode::Progressive, Mode::Predictive { max_abandon: 0.03 }] {
            let mut sum = sim::Outcome::default();
            let seeds = 5;
            for seed in 0..seeds {
                let o = sim::run(
                    mode,
                    &sim::Traffic {
                        agents,
                        answer_rate,
                        handle_secs: handle,
                        wrap_secs: 10.0,
                        hours: 8.0,
                        max_lines: agents * 6,
                        seed: seed + 1,
                    },
                );
                sum.placed += o.placed;
                sum.answered += o.answered;
                sum.abandoned += o.abandoned;
                sum.occupancy += o.occupancy / seeds as f64;
                sum.connects_per_agent_hour += o.connects_per_agent_hour / seeds as f64;
            }
            let name = match mode {
                Mode::Progressive => "progressive",
                Mode::Predictive { .. } => "predictive ",
            };
            println!(
                "{agents:>6} {:>6.0}% {handle:>8.0} | {name} {:>7} {:>8} {:>9} {:>7.2}% {:>9.1}% {:>17.1}",
                answer_rate * 100.0,
                sum.placed,
                sum.answered,
                sum.abandoned,
                100.0 * sum.abandoned as f64 / sum.answered.max(1) as f64,
                100.0 * sum.occupancy,
                sum.connects_per_agent_hour,
            );
        }
    }
}
