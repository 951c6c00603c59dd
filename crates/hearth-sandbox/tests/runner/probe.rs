//! `probe <mode> [args]`: the program the runner tests run inside containers, built
//! static by the test harness with plain rustc. Each mode does one thing; modes that
//! check the sandbox print `ok ...` or `FAIL ...` lines and exit 0 only if nothing failed.
//!
//! No network traffic leaves this machine, whatever the sandbox does: TCP connects go
//! only to the host's own addresses given as arguments, and the "outside" check is a
//! UDP `connect`, which only looks up a route and sends nothing.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::time::Duration;

unsafe extern "C" {
    fn fork() -> i32;
    fn pause() -> i32;
    fn unshare(flags: i32) -> i32;
}

/// `CLONE_NEWUSER`.
const CLONE_NEWUSER: i32 = 0x1000_0000;
/// How long a TCP connect to the host may take before it counts as blocked.
const CONNECT_TIMEOUT_SECS: u64 = 2;
/// Allocation step of the memory bomb.
const MEMBOMB_STEP_BYTES: usize = 1 << 20;
/// The memory bomb gives up (and fails) after this much.
const MEMBOMB_BYTES_MAX: usize = 8 << 30;
/// The output bomb's write size and its total.
const BIGOUTPUT_CHUNK_BYTES: usize = 64 * 1024;
const BIGOUTPUT_BYTES_MAX: usize = 256 << 20;

struct Report {
    failed: bool,
}

impl Report {
    fn check(&mut self, ok: bool, what: &str, detail: impl std::fmt::Display) {
        if ok {
            println!("ok {what}: {detail}");
        } else {
            self.failed = true;
            println!("FAIL {what}: {detail}");
        }
    }

    fn code(&self) -> i32 {
        i32::from(self.failed)
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rest = args.get(1..).unwrap_or(&[]);
    let code = match args.first().map(String::as_str).unwrap_or("") {
        "hello" => hello(),
        "whoami" => whoami(),
        "net" => net(rest),
        "read" => read_paths(rest),
        "write-input" => write_input(),
        "forkbomb" => forkbomb(),
        "membomb" => membomb(),
        "spin" => loop {
            std::hint::spin_loop();
        },
        "sleep" => {
            println!("started");
            loop {
                std::thread::sleep(Duration::from_secs(1));
            }
        }
        "bigoutput" => bigoutput(),
        "spew" => spew(rest.first().and_then(|n| n.parse().ok()).unwrap_or(0)),
        "wordcount" => wordcount(),
        "list-input" => list_input(),
        "exit" => rest.first().and_then(|n| n.parse().ok()).unwrap_or(0),
        other => {
            eprintln!("unknown mode {other:?}");
            2
        }
    };
    let _ = std::io::stdout().flush();
    std::process::exit(code);
}

fn hello() -> i32 {
    println!("hello stdout {}", std::env::var("GREETING").unwrap_or_default());
    eprintln!("hello stderr");
    0
}

/// Prints the process's identity and limits for the test to check.
fn whoami() -> i32 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    for line in status.lines() {
        if ["Uid:", "Gid:", "Cap", "NoNewPrivs:", "Seccomp:"].iter().any(|p| line.starts_with(p)) {
            println!("{line}");
        }
    }
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap_or_default();
    for line in limits.lines().filter(|l| l.starts_with("Max open files") || l.starts_with("Max core")) {
        println!("{line}");
    }
    println!("hostname {}", std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default().trim());
    let mut report = Report { failed: false };
    let unshared = unsafe { unshare(CLONE_NEWUSER) };
    report.check(unshared != 0, "unshare(CLONE_NEWUSER) refused", std::io::Error::last_os_error());
    // glibc's pthread_create tries clone3 first (denied with ENOSYS) and falls back to clone.
    let thread = std::thread::spawn(|| 7).join();
    report.check(matches!(thread, Ok(7)), "threads start", format!("{thread:?}"));
    let root_write = std::fs::write("/probe-was-here", b"x");
    report.check(root_write.is_err(), "root is read-only", format!("{root_write:?}"));
    for mount in std::fs::read_to_string("/proc/self/mounts").unwrap_or_default().lines() {
        println!("mount {mount}");
    }
    report.code()
}

fn net(host_addrs: &[String]) -> i32 {
    let mut report = Report { failed: false };
    let dev = std::fs::read_to_string("/proc/net/dev").unwrap_or_default();
    let interfaces: Vec<&str> = dev.lines().skip(2).filter_map(|l| l.split(':').next()).map(str::trim).collect();
    report.check(interfaces == ["lo"], "only loopback", format!("{interfaces:?}"));
    let routes = std::fs::read_to_string("/proc/net/route").unwrap_or_default();
    report.check(routes.lines().count() <= 1, "no IPv4 route", routes.lines().count().saturating_sub(1));
    // Loopback inside the container works (the runtime brings `lo` up).
    let inside = TcpListener::bind("127.0.0.1:0").and_then(|listener| {
        let addr = listener.local_addr()?;
        TcpStream::connect_timeout(&addr, Duration::from_secs(CONNECT_TIMEOUT_SECS))
    });
    println!("info loopback inside the container: {}", if inside.is_ok() { "up" } else { "down" });
    // A route lookup only: UDP connect sends no packet.
    let outside = UdpSocket::bind("0.0.0.0:0").and_then(|s| s.connect("1.1.1.1:53"));
    report.check(outside.is_err(), "no route outside", format!("{outside:?}"));
    for addr in host_addrs {
        let Ok(addr) = addr.parse::<SocketAddr>() else {
            report.check(false, "address", addr);
            continue;
        };
        let attempt = TcpStream::connect_timeout(&addr, Duration::from_secs(CONNECT_TIMEOUT_SECS));
        report.check(attempt.is_err(), &format!("host {addr} unreachable"), format!("{:?}", attempt.err()));
    }
    report.code()
}

fn read_paths(paths: &[String]) -> i32 {
    let mut report = Report { failed: false };
    for path in paths {
        let read = std::fs::read(path);
        report.check(read.is_err(), &format!("{path} unreadable"), format!("{:?}", read.err()));
    }
    let root: Vec<String> = std::fs::read_dir("/")
        .map(|d| d.filter_map(Result::ok).map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    println!("root {root:?}");
    report.code()
}

fn write_input() -> i32 {
    let mut report = Report { failed: false };
    let create = std::fs::write("/input/new.txt", b"x");
    report.check(create.is_err(), "create in /input refused", format!("{:?}", create.err()));
    let overwrite = std::fs::OpenOptions::new().write(true).open("/input/params.json");
    report.check(overwrite.is_err(), "overwrite params.json refused", format!("{:?}", overwrite.err()));
    let remove = std::fs::remove_file("/input/params.json");
    report.check(remove.is_err(), "remove params.json refused", format!("{:?}", remove.err()));
    let output = std::fs::write("/output/ok.txt", b"written");
    report.check(output.is_ok(), "/output writable", format!("{output:?}"));
    let tmp = std::fs::write("/tmp/ok.txt", b"written");
    report.check(tmp.is_ok(), "/tmp writable", format!("{tmp:?}"));
    report.code()
}

/// Every process forks until fork fails; then the first one reports and exits,
/// which ends the container.
fn forkbomb() -> i32 {
    let mut forks = 0u64;
    let mut first = true;
    loop {
        let pid = unsafe { fork() };
        if pid == 0 {
            first = false;
            continue;
        }
        if pid < 0 {
            break;
        }
        forks += 1;
    }
    if first {
        println!("ok fork failed after {forks} forks: {}", std::io::Error::last_os_error());
        let _ = std::io::stdout().flush();
        std::process::exit(0);
    }
    loop {
        unsafe { pause() };
    }
}

fn membomb() -> i32 {
    let mut kept: Vec<Vec<u8>> = Vec::new();
    while kept.len() * MEMBOMB_STEP_BYTES < MEMBOMB_BYTES_MAX {
        let mut block = vec![0u8; MEMBOMB_STEP_BYTES];
        for i in (0..block.len()).step_by(4096) {
            block[i] = 1;
        }
        kept.push(block);
    }
    println!("FAIL allocated {} bytes without being stopped", kept.len() * MEMBOMB_STEP_BYTES);
    1
}

fn bigoutput() -> i32 {
    let chunk = vec![b'x'; BIGOUTPUT_CHUNK_BYTES];
    let mut file = match std::fs::File::create("/output/big.bin") {
        Ok(file) => file,
        Err(e) => {
            println!("create failed: {e}");
            return 3;
        }
    };
    let mut written = 0;
    while written < BIGOUTPUT_BYTES_MAX {
        if let Err(e) = file.write_all(&chunk) {
            println!("write failed after {written} bytes: {e}");
            return 3;
        }
        written += chunk.len();
    }
    println!("wrote {written} bytes");
    0
}

fn spew(bytes: usize) -> i32 {
    let chunk = vec![b'o'; 64 * 1024];
    let (mut out, mut err) = (std::io::stdout().lock(), std::io::stderr().lock());
    let mut left = bytes;
    while left > 0 {
        let n = left.min(chunk.len());
        if out.write_all(&chunk[..n]).is_err() || err.write_all(&chunk[..n]).is_err() {
            return 1;
        }
        left -= n;
    }
    0
}

fn input_files() -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir("/input")
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| {
                    let mut data = Vec::new();
                    let _ = std::fs::File::open(e.path()).and_then(|mut f| f.read_to_end(&mut data));
                    (e.file_name().to_string_lossy().into_owned(), data)
                })
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// Counts words in every input, writes `/output/result.json` and a summary file.
fn wordcount() -> i32 {
    let files = input_files();
    let params = files.iter().find(|(n, _)| n == "params.json").map(|(_, d)| d.clone()).unwrap_or_default();
    let counted: Vec<&(String, Vec<u8>)> = files.iter().filter(|(n, _)| n != "params.json").collect();
    let words: usize = counted.iter().map(|(_, d)| String::from_utf8_lossy(d).split_whitespace().count()).sum();
    let result =
        format!("{{\"files\":{},\"words\":{},\"params\":{}}}", counted.len(), words, String::from_utf8_lossy(&params));
    let written = std::fs::write("/output/result.json", result)
        .and_then(|()| std::fs::create_dir("/output/notes"))
        .and_then(|()| std::fs::write("/output/notes/summary.txt", format!("{words} words\n")))
        .and_then(|()| std::os::unix::fs::symlink("/etc/passwd", "/output/link"));
    match written {
        Ok(()) => {
            println!("done");
            0
        }
        Err(e) => {
            println!("FAIL write outputs: {e}");
            1
        }
    }
}

/// Prints every input file and its contents, after a pause so concurrent jobs overlap.
fn list_input() -> i32 {
    std::thread::sleep(Duration::from_secs(1));
    for (name, data) in input_files() {
        println!("{name}={}", String::from_utf8_lossy(&data));
    }
    0
}
