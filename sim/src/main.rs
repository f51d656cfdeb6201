//! `partnerhook-sim [--seeds N] [--seed S] [--from F] [--no-faults] [--verbose]`: runs seeds of the simulation and prints
//! each failing one with what went wrong; the last line is `simulation: N seeds, F failed`.
//! With `SIM_TRACE=1` every request's answer is printed to stderr, to follow a replayed seed.

use std::process::ExitCode;
use std::time::Instant;

fn arg(args: &[String], name: &str) -> Option<u64> {
    let at = args.iter().position(|a| a == name)?;
    args.get(at + 1)?.parse().ok()
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let seeds: Vec<u64> = match arg(&args, "--seed") {
        Some(seed) => vec![seed],
        None => {
            let from = arg(&args, "--from").unwrap_or(0);
            let count = arg(&args, "--seeds").unwrap_or(1_000);
            (from..from + count).collect()
        }
    };
    let verbose = args.iter().any(|a| a == "--verbose");
    // Services that behave: what fails now is the model's mistake or a plain logic error.
    let faults = !args.iter().any(|a| a == "--no-faults");
    let started = Instant::now();
    let mut failed = 0;
    let (mut requests, mut jobs, mut injected) = (0, 0, 0);
    let (mut payouts, mut clawbacks) = (0, 0);
    for &seed in &seeds {
        match partnerhook_sim::run_blocking(seed, faults) {
            Ok(report) => {
                requests += report.requests;
                jobs += report.jobs;
                injected += report.injected;
                payouts += report.payouts;
                clawbacks += report.clawbacks;
            }
            Err(problem) => {
                failed += 1;
                println!(
                    "seed {seed} failed (replay: ./infra/simulate.sh --seed {seed}):\n{problem}\n"
                );
                if verbose {
                    println!("{}", partnerhook_sim::describe(seed));
                }
            }
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "{requests} requests, {jobs} jobs, {injected} injected faults in {elapsed:.1} s ({:.0} seeds/s)",
        seeds.len() as f64 / elapsed.max(1e-9)
    );
    println!("{payouts} payouts paid something, {clawbacks} clawbacks written");
    println!("simulation: {} seeds, {failed} failed", seeds.len());
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
