//! `compare`: measures mallocv2 against std (and, with `--features peers`,
//! jemalloc and mimalloc) on the workloads of `BENCHMARKS.md`.
//!
//! Each (workload, implementation) runs in fresh child processes of this same
//! binary, alternating A B A B …; inside a child the first run is the cold
//! figure and the median of the following runs the steady-state one.
//!
//! ```text
//! cargo run --release -p mallocv2-benches --bin compare -- [--scale quick|full]
//!     [--only NAME[,NAME…]] [--json PATH] [--plot DIR] [--children N] [--runs N]
//! ```

mod plot;
mod report;
mod workloads;

use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use mallocv2_benches::switch;

#[global_allocator]
static GLOBAL: switch::Switch = switch::Switch;

/// Problem sizes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scale {
    /// About two minutes for everything on 2 cores.
    Quick,
    /// The publishable sizes of BENCHMARKS.md.
    Full,
}

/// What one timed run of a workload measured.
#[derive(Clone, Debug, Default)]
pub struct Run {
    /// Wall-clock seconds of the timed part.
    pub secs: f64,
    /// The slowest single growth operation (seconds).
    pub worst_op: f64,
    /// Buffer moves observed (pointer changes) or counted by the Heap.
    pub relocations: u64,
    /// Bytes copied, where known exactly (the Heap's counters).
    pub bytes_copied: Option<u64>,
    /// (elements so far, seconds) for each growth operation, for plots.
    pub timeline: Vec<(u64, f64)>,
    /// A second timing some workloads report (the list's traversal).
    pub aux: Option<f64>,
}

/// What a child reports.
#[derive(Clone, Debug, Default)]
pub struct ChildResult {
    /// The first run.
    pub cold: Run,
    /// The runs after it.
    pub steady: Vec<Run>,
    /// The child's peak RSS in bytes.
    pub peak_rss: u64,
}

struct Args {
    scale: Scale,
    only: Option<Vec<String>>,
    json: Option<String>,
    plot: Option<String>,
    children: usize,
    runs: usize,
    child: Option<(String, String)>,
    timeline: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        scale: Scale::Quick,
        only: None,
        json: None,
        plot: None,
        children: 2,
        runs: 0,
        child: None,
        timeline: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut val = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--scale" => {
                a.scale = match val("--scale")?.as_str() {
                    "quick" => Scale::Quick,
                    "full" => Scale::Full,
                    s => return Err(format!("unknown scale {s:?} (quick or full)")),
                }
            }
            "--only" => {
                a.only = Some(val("--only")?.split(',').map(str::to_owned).collect());
            }
            "--json" => a.json = Some(val("--json")?),
            "--plot" => a.plot = Some(val("--plot")?),
            "--children" => {
                a.children = val("--children")?
                    .parse()
                    .map_err(|e| format!("--children: {e}"))?;
            }
            "--runs" => {
                a.runs = val("--runs")?.parse().map_err(|e| format!("--runs: {e}"))?;
            }
            "--child" => {
                let w = val("--child")?;
                let i = val("--child")?;
                a.child = Some((w, i));
            }
            "--timeline" => a.timeline = true,
            "-h" | "--help" => {
                return Err(String::from(
                    "usage: compare [--scale quick|full] [--only NAME[,NAME...]] [--json PATH] \
                     [--plot DIR] [--children N] [--runs N]\nworkloads: ",
                ) + &workloads::all(Scale::Quick)
                    .iter()
                    .map(|w| w.name)
                    .collect::<Vec<_>>()
                    .join(", "))
            }
            other => return Err(format!("unknown argument {other:?} (try --help)")),
        }
    }
    if a.children == 0 {
        return Err("--children must be at least 1".into());
    }
    Ok(a)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    if let Some((w, i)) = &args.child {
        return child_main(&args, w, i);
    }
    parent_main(&args)
}

/// Peak resident set size of this process (VmHWM), in bytes.
pub fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

fn child_main(args: &Args, workload: &str, imp: &str) -> ExitCode {
    let Some(w) = workloads::all(args.scale)
        .into_iter()
        .find(|w| w.name == workload)
    else {
        eprintln!("unknown workload {workload}");
        return ExitCode::from(2);
    };
    if !w.impls.iter().any(|i| i.name == imp) {
        eprintln!("unknown implementation {imp} for {workload}");
        return ExitCode::from(2);
    }
    let runs = if args.runs > 0 {
        args.runs
    } else {
        w.runs(args.scale)
    };
    let mut out = ChildResult::default();
    for r in 0..runs.max(2) {
        let mut run = (w.run)(imp, args.scale, args.timeline && r == 1);
        if !args.timeline {
            run.timeline.clear();
        }
        if r == 0 {
            out.cold = run;
        } else {
            out.steady.push(run);
        }
    }
    out.peak_rss = peak_rss();
    println!("{}", report::child_to_line(&out));
    ExitCode::SUCCESS
}

fn parent_main(args: &Args) -> ExitCode {
    let exe = match std::env::current_exe() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("cannot find this program's path: {e}");
            return ExitCode::FAILURE;
        }
    };
    let all = workloads::all(args.scale);
    if let Some(only) = &args.only {
        for name in only {
            if !all.iter().any(|w| w.name == name) {
                eprintln!(
                    "unknown workload {name:?}; known: {}",
                    all.iter().map(|w| w.name).collect::<Vec<_>>().join(", ")
                );
                return ExitCode::from(2);
            }
        }
    }
    let started = Instant::now();
    let mut rows = Vec::new();
    let mut failed = false;
    for w in all.iter().filter(|w| {
        args.only
            .as_ref()
            .is_none_or(|o| o.iter().any(|n| n == w.name))
    }) {
        eprintln!(
            "[{:>6.1}s] {} ({}) ...",
            started.elapsed().as_secs_f64(),
            w.name,
            w.what
        );
        let t = Instant::now();
        let mut results: Vec<Vec<ChildResult>> = vec![Vec::new(); w.impls.len()];
        for _ in 0..args.children {
            for (k, imp) in w.impls.iter().enumerate() {
                let mut cmd = Command::new(&exe);
                cmd.args(["--child", w.name, imp.name])
                    .args([
                        "--scale",
                        if args.scale == Scale::Full {
                            "full"
                        } else {
                            "quick"
                        },
                    ])
                    .env(switch::ENV, imp.global)
                    .stdin(Stdio::null())
                    .stderr(Stdio::inherit());
                if args.runs > 0 {
                    cmd.args(["--runs", &args.runs.to_string()]);
                }
                if args.plot.is_some() && w.plot_timeline {
                    cmd.arg("--timeline");
                }
                match cmd.output() {
                    Ok(o) if o.status.success() => {
                        let line = String::from_utf8_lossy(&o.stdout);
                        match report::line_to_child(line.trim()) {
                            Some(r) => results[k].push(r),
                            None => {
                                eprintln!("  {}: unreadable child output", imp.name);
                                failed = true;
                            }
                        }
                    }
                    Ok(o) => {
                        eprintln!("  {}: child failed ({})", imp.name, o.status);
                        failed = true;
                    }
                    Err(e) => {
                        eprintln!("  {}: cannot start child: {e}", imp.name);
                        failed = true;
                    }
                }
            }
        }
        let wrows = report::aggregate(w, &results);
        eprintln!(
            "[{:>6.1}s] {} done in {:.1}s",
            started.elapsed().as_secs_f64(),
            w.name,
            t.elapsed().as_secs_f64()
        );
        report::print_workload(w, &wrows);
        if let Some(dir) = &args.plot {
            if let Err(e) = plot::timeline(dir, w, &wrows) {
                eprintln!("  plot: {e}");
            }
        }
        rows.extend(wrows);
    }
    report::print_targets(&rows, args.scale);
    if let Some(dir) = &args.plot {
        if let Err(e) = plot::ratios(dir, &rows) {
            eprintln!("plot: {e}");
        }
    }
    if let Some(path) = &args.json {
        if let Err(e) = std::fs::write(path, report::to_json(&rows)) {
            eprintln!("cannot write {path}: {e}");
            return ExitCode::FAILURE;
        }
        eprintln!("wrote {path}");
    }
    eprintln!(
        "total {:.1}s",
        Duration::from_secs_f64(started.elapsed().as_secs_f64()).as_secs_f64()
    );
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
