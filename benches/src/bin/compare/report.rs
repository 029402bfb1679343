//! Child output lines, aggregation, the table, the targets and JSON.

use std::fmt::Write as _;

use crate::workloads::{Role, Target, Workload};
use crate::{ChildResult, Run};

/// One (workload, implementation) row.
#[derive(Clone, Debug)]
pub struct Row {
    pub workload: &'static str,
    pub imp: &'static str,
    pub role: Role,
    pub median_s: f64,
    pub cold_s: f64,
    pub worst_op_s: f64,
    pub relocations: u64,
    pub bytes_copied: Option<u64>,
    pub aux_s: Option<f64>,
    pub peak_rss: u64,
    pub reps: usize,
    pub ratio_std: Option<f64>,
    pub ratio_presized: Option<f64>,
    pub timeline: Vec<(u64, f64)>,
}

fn run_to(s: &mut String, r: &Run) {
    let copied = r.bytes_copied.map_or("-".to_string(), |b| b.to_string());
    let aux = r.aux.map_or("-".to_string(), |a| a.to_string());
    let _ = write!(
        s,
        "{},{},{},{},{}",
        r.secs, r.worst_op, r.relocations, copied, aux
    );
    if !r.timeline.is_empty() {
        s.push('|');
        for (i, (n, dt)) in r.timeline.iter().enumerate() {
            if i > 0 {
                s.push(':');
            }
            let _ = write!(s, "{n}/{dt}");
        }
    }
}

fn run_from(s: &str) -> Option<Run> {
    let (main, tl) = s.split_once('|').unwrap_or((s, ""));
    let mut f = main.split(',');
    let mut r = Run {
        secs: f.next()?.parse().ok()?,
        worst_op: f.next()?.parse().ok()?,
        relocations: f.next()?.parse().ok()?,
        bytes_copied: match f.next()? {
            "-" => None,
            b => Some(b.parse().ok()?),
        },
        aux: match f.next()? {
            "-" => None,
            a => Some(a.parse().ok()?),
        },
        timeline: Vec::new(),
    };
    if !tl.is_empty() {
        for p in tl.split(':') {
            let (n, dt) = p.split_once('/')?;
            r.timeline.push((n.parse().ok()?, dt.parse().ok()?));
        }
    }
    Some(r)
}

/// `rss;cold;steady;steady…` on one line.
pub fn child_to_line(c: &ChildResult) -> String {
    let mut s = format!("{};", c.peak_rss);
    run_to(&mut s, &c.cold);
    for r in &c.steady {
        s.push(';');
        run_to(&mut s, r);
    }
    s
}

pub fn line_to_child(line: &str) -> Option<ChildResult> {
    let mut parts = line.split(';');
    let peak_rss = parts.next()?.parse().ok()?;
    let cold = run_from(parts.next()?)?;
    let steady = parts.map(run_from).collect::<Option<Vec<_>>>()?;
    if steady.is_empty() {
        return None;
    }
    Some(ChildResult {
        cold,
        steady,
        peak_rss,
    })
}

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Medians over every child's steady runs; cold is the median of the
/// children's first runs.
pub fn aggregate(w: &Workload, results: &[Vec<ChildResult>]) -> Vec<Row> {
    let mut rows: Vec<Row> = w
        .impls
        .iter()
        .zip(results)
        .filter(|(_, r)| !r.is_empty())
        .map(|(imp, rs)| {
            let steady: Vec<&Run> = rs.iter().flat_map(|c| c.steady.iter()).collect();
            let copied: Vec<u64> = steady.iter().filter_map(|r| r.bytes_copied).collect();
            let mut relocs: Vec<u64> = steady.iter().map(|r| r.relocations).collect();
            relocs.sort_unstable();
            Row {
                workload: w.name,
                imp: imp.name,
                role: imp.role,
                median_s: median(steady.iter().map(|r| r.secs).collect()),
                cold_s: median(rs.iter().map(|c| c.cold.secs).collect()),
                worst_op_s: median(steady.iter().map(|r| r.worst_op).collect()),
                relocations: relocs[relocs.len() / 2],
                bytes_copied: copied.iter().copied().max(),
                aux_s: {
                    let a: Vec<f64> = steady.iter().filter_map(|r| r.aux).collect();
                    (!a.is_empty()).then(|| median(a))
                },
                peak_rss: rs.iter().map(|c| c.peak_rss).max().unwrap_or(0),
                reps: steady.len(),
                ratio_std: None,
                ratio_presized: None,
                timeline: steady
                    .iter()
                    .find(|r| !r.timeline.is_empty())
                    .map(|r| r.timeline.clone())
                    .unwrap_or_default(),
            }
        })
        .collect();
    let std_t = rows
        .iter()
        .find(|r| r.role == Role::Std)
        .map(|r| r.median_s);
    let pre_t = rows
        .iter()
        .find(|r| r.role == Role::Presized)
        .map(|r| r.median_s);
    for r in &mut rows {
        r.ratio_std = std_t.map(|s| r.median_s / s);
        r.ratio_presized = pre_t.map(|p| r.median_s / p);
    }
    rows
}

fn secs(s: f64) -> String {
    if s >= 1.0 {
        format!("{s:.3} s")
    } else if s >= 1e-3 {
        format!("{:.2} ms", s * 1e3)
    } else {
        format!("{:.1} us", s * 1e6)
    }
}

fn bytes(b: u64) -> String {
    if b >= 1 << 30 {
        format!("{:.2} GiB", b as f64 / (1u64 << 30) as f64)
    } else if b >= 1 << 20 {
        format!("{:.1} MiB", b as f64 / (1u64 << 20) as f64)
    } else if b >= 1 << 10 {
        format!("{:.1} KiB", b as f64 / 1024.0)
    } else {
        format!("{b} B")
    }
}

fn ratio(r: Option<f64>) -> String {
    r.map_or("-".into(), |r| format!("{r:.2}x"))
}

/// Prints one workload's table to stdout.
pub fn print_workload(w: &Workload, rows: &[Row]) {
    println!();
    println!("## {} — {}", w.name, w.what);
    println!(
        "| {:<28} | {:>10} | {:>7} | {:>9} | {:>10} | {:>10} | {:>6} | {:>10} | {:>10} |",
        "implementation",
        "median",
        "vs std",
        "vs presz",
        "cold",
        "worst op",
        "moves",
        "copied",
        "peak RSS"
    );
    println!(
        "|{:-<30}|{:->12}|{:->9}|{:->11}|{:->12}|{:->12}|{:->8}|{:->12}|{:->12}|",
        "", "", "", "", "", "", "", "", ""
    );
    for r in rows {
        println!(
            "| {:<28} | {:>10} | {:>7} | {:>9} | {:>10} | {:>10} | {:>6} | {:>10} | {:>10} |",
            r.imp,
            secs(r.median_s),
            ratio(r.ratio_std),
            ratio(r.ratio_presized),
            secs(r.cold_s),
            if r.worst_op_s > 0.0 {
                secs(r.worst_op_s)
            } else {
                "-".into()
            },
            r.relocations,
            r.bytes_copied.map_or("?".into(), bytes),
            bytes(r.peak_rss)
        );
    }
    if rows.iter().any(|r| r.aux_s.is_some()) {
        for r in rows {
            if let Some(a) = r.aux_s {
                let std_aux = rows
                    .iter()
                    .find(|x| x.role == Role::Std)
                    .and_then(|x| x.aux_s);
                println!(
                    "  traversal of {}: {} ({} vs std)",
                    r.imp,
                    secs(a),
                    ratio(std_aux.map(|s| a / s))
                );
            }
        }
    }
}

fn find<'a>(rows: &'a [Row], workload: &str, imp: &str) -> Option<&'a Row> {
    rows.iter().find(|r| r.workload == workload && r.imp == imp)
}

fn role<'a>(rows: &'a [Row], workload: &str, role: Role) -> Option<&'a Row> {
    rows.iter()
        .find(|r| r.workload == workload && r.role == role)
}

/// Checks every target of the workloads that ran; prints one line each.
pub fn print_targets(rows: &[Row], scale: crate::Scale) {
    println!();
    println!("## Targets (steady state)");
    for w in crate::workloads::all(scale) {
        if !rows.iter().any(|r| r.workload == w.name) {
            continue;
        }
        for t in &w.targets {
            let (desc, measured, limit) = match *t {
                Target::TimeVsStd(i, x) => (
                    format!("{i}: time vs std"),
                    find(rows, w.name, i)
                        .zip(role(rows, w.name, Role::Std))
                        .map(|(a, b)| a.median_s / b.median_s),
                    x,
                ),
                Target::TimeVsPresized(i, x) => (
                    format!("{i}: time vs presized"),
                    find(rows, w.name, i)
                        .zip(role(rows, w.name, Role::Presized))
                        .map(|(a, b)| a.median_s / b.median_s),
                    x,
                ),
                Target::WorstVsStd(i, x) => (
                    format!("{i}: worst op vs std"),
                    find(rows, w.name, i)
                        .zip(role(rows, w.name, Role::Std))
                        .map(|(a, b)| a.worst_op_s / b.worst_op_s),
                    x,
                ),
                Target::CopiedVsFinal(i, x, final_bytes) => (
                    format!("{i}: bytes copied vs final size"),
                    find(rows, w.name, i)
                        .and_then(|a| a.bytes_copied)
                        .map(|b| b as f64 / final_bytes as f64),
                    x,
                ),
                Target::RssVsStd(i, x) => (
                    format!("{i}: peak RSS vs std"),
                    find(rows, w.name, i)
                        .zip(role(rows, w.name, Role::Std))
                        .map(|(a, b)| a.peak_rss as f64 / b.peak_rss as f64),
                    x,
                ),
                Target::NoRelocations(i) => (
                    format!("{i}: relocations"),
                    find(rows, w.name, i).map(|a| a.relocations as f64),
                    0.0,
                ),
                Target::AuxVsStd(i, x) => (
                    format!("{i}: traversal vs std"),
                    find(rows, w.name, i)
                        .zip(role(rows, w.name, Role::Std))
                        .and_then(|(a, b)| Some(a.aux_s? / b.aux_s?)),
                    x,
                ),
                Target::FasterThan(i, other, x) => (
                    format!("{i}: speed-up over {other}"),
                    find(rows, w.name, i)
                        .zip(find(rows, w.name, other))
                        .map(|(a, b)| b.median_s / a.median_s),
                    x,
                ),
            };
            let speedup = matches!(t, Target::FasterThan(..));
            match measured {
                Some(m) => {
                    let ok = if speedup { m >= limit } else { m <= limit };
                    println!(
                        "- {:<7} {}: {:.4} (target {} {:.3})",
                        if ok { "holds" } else { "MISSED" },
                        format_args!("{} / {desc}", w.name),
                        m,
                        if speedup { ">=" } else { "<=" },
                        limit
                    );
                }
                None => println!("- n/a     {} / {desc}: not measured", w.name),
            }
        }
    }
}

fn json_str(s: &str) -> String {
    let mut o = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(o, "\\u{:04x}", c as u32);
            }
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

fn json_num(x: f64) -> String {
    if x.is_finite() {
        format!("{x}")
    } else {
        "null".into()
    }
}

/// The rows as a JSON array (fields listed in BENCHMARKS.md, plus ratios).
pub fn to_json(rows: &[Row]) -> String {
    let mut s = String::from("[\n");
    for (k, r) in rows.iter().enumerate() {
        let _ = writeln!(
            s,
            "  {{\"workload\": {}, \"impl\": {}, \"median_s\": {}, \"cold_s\": {}, \"worst_op_s\": {}, \
             \"relocations\": {}, \"bytes_copied\": {}, \"peak_rss_bytes\": {}, \"reps\": {}, \
             \"ratio_vs_std\": {}, \"ratio_vs_presized\": {}, \"aux_s\": {}}}{}",
            json_str(r.workload),
            json_str(r.imp),
            json_num(r.median_s),
            json_num(r.cold_s),
            json_num(r.worst_op_s),
            r.relocations,
            r.bytes_copied.map_or("null".into(), |b| b.to_string()),
            r.peak_rss,
            r.reps,
            r.ratio_std.map_or("null".into(), json_num),
            r.ratio_presized.map_or("null".into(), json_num),
            r.aux_s.map_or("null".into(), json_num),
            if k + 1 == rows.len() { "" } else { "," }
        );
    }
    s.push_str("]\n");
    s
}
