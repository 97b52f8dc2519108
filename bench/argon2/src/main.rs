//! Prints, as one JSON line, the median and p99 time of hashing and of verifying a
//! password with the portal's Argon2id hasher, over `N` runs (first argument, default 30).

use std::time::Instant;

use shared::domain::password::PasswordHasherArgon;

fn main() {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(30);
    let hasher = PasswordHasherArgon::new().expect("valid parameters");
    let password = "Correct-horse-battery-9";
    let stored = hasher.hash(password).expect("hash");
    let time = |f: &dyn Fn()| {
        let mut ms: Vec<f64> = (0..n)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed().as_secs_f64() * 1000.0
            })
            .collect();
        ms.sort_by(f64::total_cmp);
        (ms[ms.len() / 2], ms[(ms.len() * 99).div_ceil(100) - 1])
    };
    let (hash_p50, hash_p99) = time(&|| {
        hasher.hash(password).expect("hash");
    });
    let (verify_p50, verify_p99) = time(&|| assert!(hasher.verify(password, &stored)));
    println!(
        "{{\"runs\": {n}, \"memory_kib\": {}, \"passes\": {}, \"lanes\": {}, \"hash_p50_ms\": {hash_p50:.2}, \
         \"hash_p99_ms\": {hash_p99:.2}, \"verify_p50_ms\": {verify_p50:.2}, \"verify_p99_ms\": {verify_p99:.2}}}",
        PasswordHasherArgon::MEMORY_KIB,
        PasswordHasherArgon::PASSES,
        PasswordHasherArgon::LANES
    );
}
