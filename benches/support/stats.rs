//! Summaries for the benchmarks: medians with min and max, as the figures are quoted.

#![allow(dead_code)] // each bench uses its own part of it

use std::time::Duration;

/// A count from the environment variable `name`, or `default`.
pub fn env_count(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|value| value.parse().ok()).unwrap_or(default)
}

/// `rounds` timings of `once`, in milliseconds.
pub fn sample(rounds: usize, mut once: impl FnMut() -> Duration) -> Vec<f64> {
    (0..rounds).map(|_| once().as_secs_f64() * 1000.0).collect()
}

pub fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[sorted.len() / 2]
}

/// `median [min .. max]`.
pub fn stats(values: &[f64], decimals: usize) -> String {
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    format!("{:.decimals$} [{min:.decimals$} .. {max:.decimals$}]", median(values))
}

pub fn ms(values: &[f64]) -> String {
    format!("{} ms", stats(values, 1))
}
