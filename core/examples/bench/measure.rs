//! How each figure is taken: the fsync probe, sequential commits with their latency, CPU
//! and bytes, commits per second on threads, quotes per second.

use super::*;

/// Median latency in µs of `samples` × (4 KiB write + sync_data): appended and in place.
pub(crate) fn fsync_probe(dir: &Path, samples: usize) -> (f64, f64) {
    let path = dir.join("fsync-probe");
    let block = vec![0x5au8; 4096];
    let mut append = Vec::with_capacity(samples);
    let mut in_place = Vec::with_capacity(samples);
    {
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(true)
            .write(true)
            .open(&path)
            .expect("create the fsync probe");
        file.write_all(&block).unwrap();
        file.sync_all().unwrap();
        // Interleave the two kinds so both see the same neighbours' noise.
        let mut end = block.len() as u64;
        for _ in 0..samples {
            let start = Instant::now();
            file.seek(SeekFrom::Start(end)).unwrap();
            file.write_all(&block).unwrap();
            file.sync_data().unwrap();
            append.push(micros(start.elapsed()));
            end += block.len() as u64;

            let start = Instant::now();
            file.seek(SeekFrom::Start(0)).unwrap();
            file.write_all(&block).unwrap();
            file.sync_data().unwrap();
            in_place.push(micros(start.elapsed()));
        }
    }
    let _ = fs::remove_file(&path);
    (median(&append), median(&in_place))
}

/// Sequential durable commits: per-commit latencies in µs.
pub(crate) fn commit_latency(
    engine: &Engine,
    clients: &[Client],
    count: usize,
    tag: &str,
) -> Vec<f64> {
    commit_costs(engine, clients, 0..count, tag).latency
}

/// What a run of sequential commits cost: per commit, latency and this thread's CPU in
/// µs; over the run, bytes written to disk and bytes of the batches themselves.
#[derive(Default)]
pub(crate) struct Costs {
    pub(crate) latency: Vec<f64>,
    pub(crate) cpu: Vec<f64>,
    pub(crate) disk_bytes: u64,
    pub(crate) batch_bytes: u64,
}

impl Costs {
    pub(crate) fn add(&mut self, other: Costs) {
        self.latency.extend(other.latency);
        self.cpu.extend(other.cpu);
        self.disk_bytes += other.disk_bytes;
        self.batch_bytes += other.batch_bytes;
    }

    pub(crate) fn per_commit(&self, bytes: u64) -> f64 {
        bytes as f64 / self.latency.len().max(1) as f64
    }
}

/// Sequential commits numbered `range` (order ids `{tag}-{n}`), with their costs.
pub(crate) fn commit_costs(
    engine: &Engine,
    clients: &[Client],
    range: std::ops::Range<usize>,
    tag: &str,
) -> Costs {
    let mut costs = Costs::default();
    let disk_before = disk_writes().unwrap_or(0);
    let batch_before = engine.applied_batch_bytes().expect("batch bytes");
    for n in range {
        let client = &clients[n % clients.len()];
        let args = commit_args(client, format!("{tag}-{n}"), n, None);
        let cpu_start = thread_cpu();
        let start = Instant::now();
        ok(engine, "checkout.commit", args);
        costs.latency.push(micros(start.elapsed()));
        costs
            .cpu
            .push(micros(thread_cpu().saturating_sub(cpu_start)));
    }
    costs.disk_bytes = disk_writes().unwrap_or(0).saturating_sub(disk_before);
    costs.batch_bytes = engine.applied_batch_bytes().expect("batch bytes") - batch_before;
    costs
}

/// CPU time this thread has used (Linux and other POSIX systems).
pub(crate) fn thread_cpu() -> Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid timespec for clock_gettime to fill.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

/// Commits per second with one thread per group, for `time`.
pub(crate) fn commit_throughput(
    engine: &Engine,
    groups: &[Vec<Client>],
    time: Duration,
    tag: &str,
) -> f64 {
    let barrier = Barrier::new(groups.len() + 1);
    let (total, elapsed) = std::thread::scope(|scope| {
        let handles: Vec<_> = groups
            .iter()
            .enumerate()
            .map(|(t, clients)| {
                let barrier = &barrier;
                scope.spawn(move || {
                    barrier.wait();
                    let deadline = Instant::now() + time;
                    let mut n = 0usize;
                    while Instant::now() < deadline {
                        let client = &clients[n % clients.len()];
                        ok(
                            engine,
                            "checkout.commit",
                            commit_args(client, format!("{tag}-t{t}-{n}"), n, None),
                        );
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        barrier.wait();
        let start = Instant::now();
        let total: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
        (total, start.elapsed())
    });
    total as f64 / elapsed.as_secs_f64()
}

/// Quotes per second (and median latency in µs) on one thread for `time`.
pub(crate) fn quote_rate(engine: &Engine, client: &Client, time: Duration) -> (f64, f64) {
    let args = json!({
        "customer": { "id": client.id },
        "vehicle": { "id": client.vehicle },
        "lines": quote_lines(),
        "redeem": "max",
    });
    let mut samples = Vec::new();
    let start = Instant::now();
    while start.elapsed() < time {
        let t = Instant::now();
        ok(engine, "checkout.quote", args.clone());
        samples.push(micros(t.elapsed()));
    }
    (
        samples.len() as f64 / start.elapsed().as_secs_f64(),
        median(&samples),
    )
}

/// Bytes this process has caused to be written to disk so far (Linux), if known.
pub(crate) fn disk_writes() -> Option<u64> {
    let io = fs::read_to_string("/proc/self/io").ok()?;
    io.lines()
        .find_map(|line| line.strip_prefix("write_bytes: "))
        .and_then(|n| n.trim().parse().ok())
}
