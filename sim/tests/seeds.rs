//! `cargo test` runs a few hundred seeds; CI runs thousands with ./infra/simulate.sh.

#[test]
fn three_hundred_seeds_hold_against_the_model() {
    let failures: Vec<String> = (0..300)
        .filter_map(|seed| {
            partnerhook_sim::run_blocking(seed, true)
                .err()
                .map(|problem| {
                    format!("seed {seed} (./infra/simulate.sh --seed {seed}):\n{problem}")
                })
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} seeds failed:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
