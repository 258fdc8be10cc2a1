//! The default GOMAXPROCS: the CPUs we may run on, lowered to a container's CPU limit.
//!
//! Go: runtime/cgroup_linux.go (`defaultGOMAXPROCSInit`, `defaultGOMAXPROCS`,
//! `adjustCgroupGOMAXPROCS`), internal/runtime/cgroup (cgroup.go, cgroup_linux.go,
//! line_reader.go), `getCPUCount` (runtime/os_linux.go) and the `GOMAXPROCS` parsing in
//! `schedinit` (runtime/proc.go). Since Go 1.25:
//!
//! ```text
//! GOMAXPROCS = min(CPUs in the affinity mask, max(2, ceil(quota / period)))
//! ```
//!
//! where quota/period comes from the CPU cgroup that `/proc/self/cgroup` names, found under the
//! mount that `/proc/self/mountinfo` lists: `cpu.max` for cgroup v2, `cpu.cfs_quota_us` and
//! `cpu.cfs_period_us` for v1. Go reads only that leaf cgroup, not its ancestors: container
//! runtimes put the limit on the container's own cgroup and usually hide the parents anyway.
//!
//! Every path is read relative to a root directory, so tests can build a fake `/proc` and
//! `/sys/fs/cgroup`; [`gomaxprocs`] uses `/`.

use std::fmt;
use std::fs::File;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// Go: `_PATH_MAX` / `PathSize`: the longest cgroup path Go will compose.
pub const PATH_SIZE: usize = 4096;

/// Go: `escapedPathMax`: mountinfo escapes a byte as 4 characters (`\040` for a space).
pub const ESCAPED_PATH_MAX: usize = 4 * PATH_SIZE;

/// Go: `ParseSize`: the line buffer for /proc/self/cgroup and /proc/self/mountinfo.
pub const PARSE_SIZE: usize = 4 * ESCAPED_PATH_MAX;

/// Go: the `[64]byte` buffer `readV1Number` and `readV2Limit` read a limit file into.
const LIMIT_FILE_BUF: usize = 64;

/// The cgroup hierarchy that holds our CPU controller.
///
/// Go: `cgroup.Version`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    V1,
    V2,
}

/// Why no CPU limit could be read.
///
/// Go: the `stringError` values of internal/runtime/cgroup; `Display` gives Go's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CgroupError {
    /// `ErrNoCgroup`: no CPU cgroup, or no mount that reaches it.
    NoCgroup,
    /// `errMalformedFile`.
    MalformedFile,
    /// `errSyscallFailed`: a file could not be opened or read.
    SyscallFailed,
    /// `errIncompleteLine`: a /proc/self/cgroup line longer than the parse buffer.
    IncompleteLine,
    /// `errPathTooLong`.
    PathTooLong,
    /// `errInvalidEscape`: a bad `\ooo` escape in mountinfo.
    InvalidEscape,
}

impl fmt::Display for CgroupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CgroupError::NoCgroup => "not in a cgroup",
            CgroupError::MalformedFile => "malformed file",
            CgroupError::SyscallFailed => "syscall failed",
            CgroupError::IncompleteLine => "incomplete line",
            CgroupError::PathTooLong => "path too long",
            CgroupError::InvalidEscape => "invalid path escape sequence",
        })
    }
}

impl std::error::Error for CgroupError {}

/// Go's `strconv.ParseInt(s, 10, 64)`: an optional sign and ASCII digits, nothing else;
/// Rust's `i64::from_str` accepts exactly the same strings.
fn parse_int(b: &[u8]) -> Option<i64> {
    std::str::from_utf8(b).ok()?.parse().ok()
}

/// The value of `cpu.cfs_quota_us` or `cpu.cfs_period_us`: `"<int>\n"`, quota -1 for none.
///
/// Go: `cgroup.parseV1Number` (cgroup.go). The newline is required.
pub fn parse_v1_number(buf: &[u8]) -> Result<i64, CgroupError> {
    let i = buf
        .iter()
        .position(|&c| c == b'\n')
        .ok_or(CgroupError::MalformedFile)?;
    parse_int(&buf[..i]).ok_or(CgroupError::MalformedFile)
}

/// The limit in `cpu.max`: `"<quota> <period>\n"` gives quota/period CPUs, `"max ..."` none.
///
/// Go: `cgroup.parseV2Limit` (cgroup.go). The newline is required after the period.
pub fn parse_v2_limit(buf: &[u8]) -> Result<Option<f64>, CgroupError> {
    let i = buf
        .iter()
        .position(|&c| c == b' ')
        .ok_or(CgroupError::MalformedFile)?;
    let quota = &buf[..i];
    if quota == b"max" {
        return Ok(None);
    }
    let period = &buf[i + 1..];
    let j = period
        .iter()
        .position(|&c| c == b'\n')
        .ok_or(CgroupError::MalformedFile)?;
    let quota = parse_int(quota).ok_or(CgroupError::MalformedFile)?;
    let period = parse_int(&period[..j]).ok_or(CgroupError::MalformedFile)?;
    Ok(Some(quota as f64 / period as f64))
}

/// The lines of a file as Go's fixed-buffer reader returns them: `(line, complete)`. A line
/// whose newline does not fall within [`PARSE_SIZE`] bytes (or the last line, if the file does
/// not end in a newline) comes back truncated and marked incomplete; its remainder is skipped.
///
/// Go: `cgroup.lineReader` (line_reader.go), over a file read whole.
fn lines(data: &[u8]) -> impl Iterator<Item = (&[u8], bool)> {
    let mut pos = 0;
    std::iter::from_fn(move || {
        if pos >= data.len() {
            return None;
        }
        let window = &data[pos..data.len().min(pos + PARSE_SIZE)];
        if let Some(nl) = window.iter().position(|&c| c == b'\n') {
            pos += nl + 1;
            return Some((&window[..nl], true));
        }
        pos = match data[pos..].iter().position(|&c| c == b'\n') {
            Some(nl) => pos + nl + 1,
            None => data.len(),
        };
        Some((window, false))
    })
}

/// Whether the comma-separated list `b` contains `cpu` exactly (`cpuacct` or `cpuset` do not
/// count).
///
/// Go: `cgroup.containsCPU` (cgroup.go).
pub fn contains_cpu(b: &[u8]) -> bool {
    b.split(|&c| c == b',').any(|c| c == b"cpu")
}

/// The path of our CPU cgroup, relative to its hierarchy's root, from /proc/self/cgroup.
///
/// Go: `cgroup.parseCPUCgroup` (cgroup.go). Lines are `hierarchy-ID:controllers:path`. A v1
/// hierarchy whose controllers include `cpu` wins at once; otherwise the v2 line (ID 0), the
/// last one if several.
pub fn parse_cpu_cgroup(contents: &[u8]) -> Result<(Vec<u8>, Version), CgroupError> {
    let mut v2: Option<&[u8]> = None;
    for (line, complete) in lines(contents) {
        if !complete {
            // Lines here are short in practice; a long one is an error, wherever it is.
            return Err(CgroupError::IncompleteLine);
        }
        let mut fields = line.splitn(3, |&c| c == b':');
        let hierarchy = fields.next().unwrap_or_default();
        let controllers = fields.next().ok_or(CgroupError::MalformedFile)?;
        let path = fields.next().ok_or(CgroupError::MalformedFile)?;
        if path.first() != Some(&b'/') {
            // Composing the full path relies on it.
            return Err(CgroupError::MalformedFile);
        }
        if path.len() > PATH_SIZE {
            return Err(CgroupError::PathTooLong);
        }
        if hierarchy == b"0" {
            v2 = Some(path);
        } else if contains_cpu(controllers) {
            return Ok((path.to_vec(), Version::V1));
        }
    }
    match v2 {
        Some(path) => Ok((path.to_vec(), Version::V2)),
        None => Err(CgroupError::NoCgroup),
    }
}

/// Whether `prefix` is `p` or a parent directory of it; `/` is a prefix of everything.
///
/// Go: `cgroup.hasPathPrefix` (cgroup.go).
pub fn has_path_prefix(p: &[u8], prefix: &[u8]) -> bool {
    let i = prefix.len();
    if i == 1 {
        return true;
    }
    if p.len() < i || &p[..i] != prefix {
        return false;
    }
    p.len() == i || p[i] == b'/'
}

/// Undoes the octal escapes (`\040` for space, `\011` for tab...) the kernel writes in
/// mountinfo paths.
///
/// Go: `cgroup.unescapePath` (cgroup.go).
pub fn unescape_path(input: &[u8]) -> Result<Vec<u8>, CgroupError> {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        let c = input[i];
        if c != b'\\' {
            out.push(c);
            i += 1;
            continue;
        }
        // Always a backslash and three octal digits.
        if i + 3 >= input.len() {
            return Err(CgroupError::InvalidEscape);
        }
        let mut v: u32 = 0;
        for &d in &input[i + 1..i + 4] {
            if !(b'0'..=b'7').contains(&d) {
                return Err(CgroupError::InvalidEscape);
            }
            v = v * 8 + (d - b'0') as u32;
        }
        out.push(u8::try_from(v).map_err(|_| CgroupError::InvalidEscape)?);
        i += 4;
    }
    Ok(out)
}

/// The absolute path of `cgroup` through the first mount, in /proc/self/mountinfo, of its
/// hierarchy (`cgroup2`, or `cgroup` with the `cpu` super option) whose root contains it.
///
/// Go: `cgroup.parseCPUMount` (cgroup.go). A line reads
/// `36 35 98:0 /root /mount/point rw,noatime master:1 - cgroup2 cgroup2 rw`: fields 4 and 5
/// are the mount's root within the hierarchy and where it is mounted, then optional fields up
/// to `-`, then the filesystem type, the source and the super options. The result is the mount
/// point plus the cgroup path below the root. Long lines of other mounts (overlayfs options)
/// may be truncated; that is harmless.
pub fn parse_cpu_mount(
    contents: &[u8],
    cgroup: &[u8],
    version: Version,
) -> Result<Vec<u8>, CgroupError> {
    let field = |line: &mut &[u8]| -> Result<Vec<u8>, CgroupError> {
        let i = line
            .iter()
            .position(|&c| c == b' ')
            .ok_or(CgroupError::MalformedFile)?;
        let f = line[..i].to_vec();
        *line = &line[i + 1..];
        Ok(f)
    };
    for (mut line, _complete) in lines(contents) {
        // Mount ID, parent ID, major:minor.
        for _ in 0..3 {
            field(&mut line)?;
        }
        let root = field(&mut line)?;
        if root.first() != Some(&b'/') {
            return Err(CgroupError::MalformedFile);
        }
        let mnt = field(&mut line)?;
        // Mount options and optional fields, up to the " - " separator.
        loop {
            let i = line
                .iter()
                .position(|&c| c == b' ')
                .ok_or(CgroupError::MalformedFile)?;
            if i + 3 >= line.len() {
                return Err(CgroupError::MalformedFile);
            }
            if &line[i..i + 3] == b" - " {
                line = &line[i + 3..];
                break;
            }
            line = &line[i + 1..];
        }
        let ftype = field(&mut line)?;
        match version {
            Version::V1 => {
                if ftype != b"cgroup" {
                    continue;
                }
                field(&mut line)?; // the mount source
                if !contains_cpu(line) {
                    continue;
                }
            }
            Version::V2 => {
                if ftype != b"cgroup2" {
                    continue;
                }
            }
        }

        // The mount must show our cgroup: its root is the cgroup or an ancestor.
        let root = unescape_path(&root)?;
        if !has_path_prefix(cgroup, &root) {
            continue;
        }
        let rel = if root.len() == 1 && cgroup.len() > 1 {
            cgroup
        } else {
            &cgroup[root.len()..]
        };
        if has_path_prefix(rel, b"/..") {
            // Outside our cgroup namespace: this mount cannot reach it.
            continue;
        }
        let mut path = unescape_path(&mnt)?;
        if path.len() + rel.len() > PATH_SIZE {
            return Err(CgroupError::PathTooLong);
        }
        path.extend_from_slice(rel);
        return Ok(path);
    }
    Err(CgroupError::NoCgroup)
}

/// Reads `root/rel` whole. A missing file is [`CgroupError::NoCgroup`], as in Go.
fn read_proc(root: &Path, rel: &str) -> Result<Vec<u8>, CgroupError> {
    std::fs::read(root.join(rel)).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => CgroupError::NoCgroup,
        _ => CgroupError::SyscallFailed,
    })
}

/// Where our CPU cgroup's directory is, below `root`, and its version.
///
/// Go: `cgroup.FindCPU` (cgroup_linux.go): /proc/self/cgroup, then /proc/self/mountinfo.
pub fn find_cpu(root: &Path) -> Result<(PathBuf, Version), CgroupError> {
    let (cgroup, version) = parse_cpu_cgroup(&read_proc(root, "proc/self/cgroup")?)?;
    let path = parse_cpu_mount(&read_proc(root, "proc/self/mountinfo")?, &cgroup, version)?;
    let rel = std::ffi::OsStr::from_bytes(path.strip_prefix(b"/").unwrap_or(&path));
    Ok((root.join(rel), version))
}

/// The open limit file(s) of our CPU cgroup.
///
/// Go: `cgroup.CPU` (cgroup_linux.go). Go opens them once at startup and rereads them from
/// offset 0 every time, so a changed limit is seen, but a move to another cgroup is not.
#[derive(Debug)]
pub struct Cpu {
    pub version: Version,
    /// `cpu.max` (v2) or `cpu.cfs_quota_us` (v1).
    quota: File,
    /// `cpu.cfs_period_us` (v1 only).
    period: Option<File>,
}

/// Finds our CPU cgroup and opens its limit file(s).
///
/// Go: `cgroup.OpenCPU` (cgroup_linux.go). A file that cannot be opened (the cgroup was
/// deleted, or has no CPU controller files) is a failed system call.
pub fn open_cpu(root: &Path) -> Result<Cpu, CgroupError> {
    let (dir, version) = find_cpu(root)?;
    let open = |name: &str| File::open(dir.join(name)).map_err(|_| CgroupError::SyscallFailed);
    Ok(match version {
        Version::V1 => Cpu {
            version,
            quota: open("cpu.cfs_quota_us")?,
            period: Some(open("cpu.cfs_period_us")?),
        },
        Version::V2 => Cpu {
            version,
            quota: open("cpu.max")?,
            period: None,
        },
    })
}

/// One `pread` of up to 64 bytes at offset 0; a full buffer means the file is not a limit.
fn pread_limit_file(f: &File) -> Result<Vec<u8>, CgroupError> {
    let mut b = [0u8; LIMIT_FILE_BUF];
    let n = f
        .read_at(&mut b, 0)
        .map_err(|_| CgroupError::SyscallFailed)?;
    if n == b.len() {
        return Err(CgroupError::MalformedFile);
    }
    Ok(b[..n].to_vec())
}

/// The CPU limit (quota/period, in CPUs), or `None` if there is none.
///
/// Go: `cgroup.ReadCPULimit` (cgroup_linux.go). For v1 a negative quota means no limit, and
/// the period is read only when there is a quota.
pub fn read_cpu_limit(c: &Cpu) -> Result<Option<f64>, CgroupError> {
    match &c.period {
        None => parse_v2_limit(&pread_limit_file(&c.quota)?),
        Some(period) => {
            let quota = pread_limit_file(&c.quota)
                .and_then(|b| parse_v1_number(&b))
                .map_err(|_| CgroupError::MalformedFile)?;
            if quota < 0 {
                return Ok(None);
            }
            let period = pread_limit_file(period)
                .and_then(|b| parse_v1_number(&b))
                .map_err(|_| CgroupError::MalformedFile)?;
            Ok(Some(quota as f64 / period as f64))
        }
    }
}

/// The CPU limit of the cgroup we run in, below `root`: `Ok(None)` if it has none.
pub fn cgroup_cpu_limit(root: &Path) -> Result<Option<f64>, CgroupError> {
    read_cpu_limit(&open_cpu(root)?)
}

/// Lowers `procs` to the cgroup's limit, rounded up and at least 2. A limit that cannot be read
/// changes nothing.
///
/// Go: `runtime.adjustCgroupGOMAXPROCS` (cgroup_linux.go). Rounding up uses a fractional CPU
/// fully; the floor of 2 keeps one goroutine from starving the rest (a 0.5-CPU container still
/// gets 2). Go converts with `int32(limit)`, whose result is implementation-defined for limits
/// past 2^31 CPUs; Rust's `as` saturates, which leaves `procs` alone.
pub fn adjust_cgroup_gomaxprocs(procs: u32, cpu: &Cpu) -> u32 {
    match read_cpu_limit(cpu) {
        Ok(Some(limit)) => {
            let limit = limit.ceil().max(2.0);
            procs.min(limit as u32)
        }
        _ => procs,
    }
}

// ANCHOR: default_gomaxprocs
/// The default GOMAXPROCS: `affinity_cpus` lowered to the CPU limit of our cgroup (found below
/// `root`), unless `GODEBUG=containermaxprocs=0`. No cgroup, no limit file or a malformed one
/// all mean no limit.
///
/// Go: `runtime.defaultGOMAXPROCSInit` and `runtime.defaultGOMAXPROCS` (cgroup_linux.go).
/// `affinity_cpus` is `numCPUStartup`; 0 asks for [`affinity_cpus`] now, as Go's `ncpu <= 0`.
pub fn default_gomaxprocs(root: &Path, affinity_cpus: u32, godebug_containermaxprocs: bool) -> u32 {
    let procs = if affinity_cpus == 0 {
        self::affinity_cpus()
    } else {
        affinity_cpus
    };
    if !godebug_containermaxprocs {
        return procs;
    }
    match open_cpu(root) {
        Ok(cpu) => adjust_cgroup_gomaxprocs(procs, &cpu),
        Err(_) => procs,
    }
}
// ANCHOR_END: default_gomaxprocs

/// GOMAXPROCS from the environment variable if it is a valid positive 32-bit integer, else
/// `default`. There is no upper clamp: `_MaxGomaxprocs` went away in Go 1.10.
///
/// Go: `schedinit` (proc.go): `strconv.ParseInt(gogetenv("GOMAXPROCS"), 10, 32)` and `n > 0`.
/// An unset variable reads as "", which does not parse.
pub fn gomaxprocs_from_env(value: Option<&str>, default: u32) -> u32 {
    match value.and_then(|v| v.parse::<i32>().ok()) {
        Some(n) if n > 0 => n as u32,
        _ => default,
    }
}

/// Whether cgroup-aware GOMAXPROCS is on, given the GODEBUG settings in effect: the main
/// module's defaults (`go 1.24` or older in go.mod means `containermaxprocs=0`) followed by the
/// `GODEBUG` variable.
///
/// Go: `parsedebugvars` / `parsegodebug` (runtime1.go): comma-separated `key=value`, read left
/// to right so the last one wins; values that are not 32-bit integers are ignored; on when > 0.
pub fn godebug_containermaxprocs(godebug: &str) -> bool {
    let mut v: i32 = 1;
    for field in godebug.split(',') {
        if let Some((key, value)) = field.split_once('=') {
            if key == "containermaxprocs" {
                if let Ok(n) = value.parse::<i32>() {
                    v = n;
                }
            }
        }
    }
    v > 0
}

/// The number of CPUs this thread may run on.
///
/// Go: `runtime.getCPUCount` (os_linux.go): `sched_getaffinity` into an 8 KiB mask (64Ki CPUs),
/// counting the set bits; 1 if the call fails or the mask is empty. Elsewhere, and under miri,
/// `available_parallelism` stands in.
pub fn affinity_cpus() -> u32 {
    #[cfg(all(target_os = "linux", not(miri)))]
    {
        const MAX_CPUS: usize = 64 * 1024;
        let mut buf = [0u8; MAX_CPUS / 8];
        // SAFETY: the kernel writes at most `buf.len()` bytes into `buf`; the raw system call
        // (not glibc's wrapper) returns how many bytes of mask it wrote.
        let r = unsafe {
            libc::syscall(
                libc::SYS_sched_getaffinity,
                0 as libc::c_long,
                buf.len(),
                buf.as_mut_ptr(),
            )
        };
        if r < 0 {
            return 1;
        }
        let n: u32 = buf[..r as usize].iter().map(|b| b.count_ones()).sum();
        n.max(1)
    }
    #[cfg(not(all(target_os = "linux", not(miri))))]
    {
        std::thread::available_parallelism().map_or(1, |n| n.get() as u32)
    }
}

/// GOMAXPROCS as a Go 1.27 program on this machine would start with: `GOMAXPROCS` if set and
/// valid, else the cgroup-aware default (subject to `GODEBUG`).
///
/// Go: `schedinit` (proc.go).
pub fn gomaxprocs() -> u32 {
    let godebug = std::env::var("GODEBUG").unwrap_or_default();
    let env = std::env::var("GOMAXPROCS").ok();
    let default = || {
        default_gomaxprocs(
            Path::new("/"),
            affinity_cpus(),
            godebug_containermaxprocs(&godebug),
        )
    };
    match gomaxprocs_from_env(env.as_deref(), 0) {
        0 => default(),
        n => n,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    /// A fake root with /proc/self/{cgroup,mountinfo} and cgroup files, removed on drop.
    struct FakeRoot {
        dir: PathBuf,
    }

    impl FakeRoot {
        fn new(name: &str) -> FakeRoot {
            static N: AtomicU32 = AtomicU32::new(0);
            let dir = std::env::temp_dir().join(format!(
                "go-maxprocs-{}-{name}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            ));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            FakeRoot { dir }
        }

        fn write(&self, rel: &str, contents: &str) -> &FakeRoot {
            let p = self.dir.join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, contents).unwrap();
            self
        }

        /// A cgroup v2 container: we are in cgroup `cgroup`, the unified hierarchy is mounted
        /// at /sys/fs/cgroup, and the leaf's cpu.max says `cpu_max`.
        fn v2(name: &str, cgroup: &str, cpu_max: &str) -> FakeRoot {
            let r = FakeRoot::new(name);
            r.write("proc/self/cgroup", &format!("0::{cgroup}\n"));
            r.write("proc/self/mountinfo", V2_MOUNTINFO);
            r.write(&format!("sys/fs/cgroup{cgroup}/cpu.max"), cpu_max);
            r
        }
    }

    impl Drop for FakeRoot {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    const V2_MOUNTINFO: &str = "\
22 1 8:1 / / rw,relatime - ext4 /dev/root rw
20 22 0:19 / /proc rw,nosuid,nodev,noexec - proc proc rw
25 21 0:22 / /sys/fs/cgroup rw,nosuid,nodev,noexec - cgroup2 cgroup2 rw
";

    const V1_MOUNTINFO: &str = "\
22 1 8:1 / / rw,relatime - ext4 /dev/root rw
49 22 0:37 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
56 22 0:40 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct
59 22 0:43 / /sys/fs/cgroup/cpuset rw - cgroup cgroup rw,cpuset
";

    // ANCHOR: cgroup_v2_test
    #[test]
    #[cfg_attr(miri, ignore)]
    fn cgroup_v2_limits() {
        // (cpu.max, CPUs in the affinity mask, GOMAXPROCS)
        let cases = [
            ("150000 100000\n", 8, 2),  // 1.5 CPUs, rounded up
            ("50000 100000\n", 8, 2),   // half a CPU: never below 2
            ("400000 100000\n", 8, 4),  // 4 CPUs of 8
            ("1600000 100000\n", 4, 4), // a 16-CPU quota on a 4-CPU mask
            ("max 100000\n", 8, 8),     // no limit
            ("250000 100000\n", 1, 1),  // the floor of 2 never raises the mask
        ];
        for (cpu_max, affinity, want) in cases {
            let root = FakeRoot::v2("v2", "/", cpu_max);
            assert_eq!(
                default_gomaxprocs(&root.dir, affinity, true),
                want,
                "cpu.max {cpu_max:?} on {affinity} CPUs"
            );
        }
        let root = FakeRoot::v2("v2", "/", "150000 100000\n");
        assert_eq!(cgroup_cpu_limit(&root.dir), Ok(Some(1.5)));
    }
    // ANCHOR_END: cgroup_v2_test

    #[test]
    #[cfg_attr(miri, ignore)]
    fn cgroup_v2_in_a_nested_cgroup() {
        let root = FakeRoot::v2("nested", "/kubepods/pod1/ctr", "300000 100000\n");
        let (dir, version) = find_cpu(&root.dir).unwrap();
        assert_eq!(version, Version::V2);
        assert!(dir.ends_with("sys/fs/cgroup/kubepods/pod1/ctr"));
        assert_eq!(default_gomaxprocs(&root.dir, 16, true), 3);
    }

    #[test]
    #[cfg_attr(miri, ignore)]
    fn only_the_leaf_cgroup_counts_not_the_tightest_ancestor() {
        // The parent allows 1 CPU, our own cgroup has no limit. Go 1.27 reads the leaf only
        // (cgroup_linux.go, "downside 1"), so GOMAXPROCS stays at the mask.
        let root = FakeRoot::v2("leaf", "/parent/leaf", "max 100000\n");
        root.write("sys/fs/cgroup/parent/cpu.max", "100000 100000\n");
        assert_eq!(default_gomaxprocs(&root.dir, 8, true), 8);

        // A tighter leaf is what counts.
        let root = FakeRoot::v2("leaf", "/parent/leaf", "300000 100000\n");
        root.write("sys/fs/cgroup/parent/cpu.max", "600000 100000\n");
        assert_eq!(default_gomaxprocs(&root.dir, 8, true), 3);
    }

    #[test]
    #[cfg_attr(miri, ignore)]
    fn cgroup_v1_quota_and_period() {
        let root = FakeRoot::new("v1");
        root.write(
            "proc/self/cgroup",
            "12:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n0::/\n",
        )
        .write("proc/self/mountinfo", V1_MOUNTINFO)
        .write(
            "sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_quota_us",
            "250000\n",
        )
        .write(
            "sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_period_us",
            "100000\n",
        );
        assert_eq!(cgroup_cpu_limit(&root.dir), Ok(Some(2.5)));
        assert_eq!(default_gomaxprocs(&root.dir, 8, true), 3);

        // Quota -1: no limit.
        root.write(
            "sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_quota_us",
            "-1\n",
        );
        assert_eq!(cgroup_cpu_limit(&root.dir), Ok(None));
        assert_eq!(default_gomaxprocs(&root.dir, 8, true), 8);
    }

    #[test]
    #[cfg_attr(miri, ignore)]
    fn containermaxprocs_0_ignores_the_cgroup() {
        let root = FakeRoot::v2("off", "/", "100000 100000\n");
        assert_eq!(default_gomaxprocs(&root.dir, 8, true), 2);
        assert_eq!(default_gomaxprocs(&root.dir, 8, false), 8);
    }

    #[test]
    #[cfg_attr(miri, ignore)]
    fn missing_or_malformed_files_mean_no_limit() {
        // Not in a cgroup at all (no /proc/self/cgroup).
        let root = FakeRoot::new("none");
        assert_eq!(cgroup_cpu_limit(&root.dir), Err(CgroupError::NoCgroup));
        assert_eq!(default_gomaxprocs(&root.dir, 8, true), 8);

        // The cgroup exists but has no cpu.max (the cpu controller is not enabled there).
        let root = FakeRoot::new("nofile");
        root.write("proc/self/cgroup", "0::/\n")
            .write("proc/self/mountinfo", V2_MOUNTINFO);
        assert_eq!(cgroup_cpu_limit(&root.dir), Err(CgroupError::SyscallFailed));
        assert_eq!(default_gomaxprocs(&root.dir, 8, true), 8);

        // No cgroup2 mount reaches it.
        let root = FakeRoot::v2("nomount", "/", "100000 100000\n");
        root.write("proc/self/mountinfo", V1_MOUNTINFO);
        assert_eq!(cgroup_cpu_limit(&root.dir), Err(CgroupError::NoCgroup));

        // A cpu.max without its newline.
        let root = FakeRoot::v2("malformed", "/", "100000 100000");
        assert_eq!(cgroup_cpu_limit(&root.dir), Err(CgroupError::MalformedFile));
        assert_eq!(default_gomaxprocs(&root.dir, 8, true), 8);
    }

    #[test]
    #[cfg_attr(miri, ignore)]
    fn the_open_limit_file_is_reread() {
        // Go keeps the file open and sysmon rereads it every second: a new limit is seen.
        let root = FakeRoot::v2("reread", "/", "400000 100000\n");
        let cpu = open_cpu(&root.dir).unwrap();
        assert_eq!(adjust_cgroup_gomaxprocs(8, &cpu), 4);
        root.write("sys/fs/cgroup/cpu.max", "200000 100000\n");
        assert_eq!(adjust_cgroup_gomaxprocs(8, &cpu), 2);
    }

    #[test]
    #[cfg_attr(miri, ignore)]
    fn affinity_counts_at_least_one_cpu() {
        let n = affinity_cpus();
        assert!(n >= 1);
        assert!(gomaxprocs() >= 1);
    }

    #[test]
    fn v1_numbers() {
        assert_eq!(parse_v1_number(b"-1\n"), Ok(-1));
        assert_eq!(parse_v1_number(b"500000\n"), Ok(500000));
        assert_eq!(
            parse_v1_number(b"9223372036854775807\n"),
            Ok(9223372036854775807)
        );
        for bad in [&b"500000"[..], b"123max\n", b"1000 5000\n"] {
            assert_eq!(parse_v1_number(bad), Err(CgroupError::MalformedFile));
        }
    }

    #[test]
    fn v2_limits() {
        assert_eq!(parse_v2_limit(b"max 100000\n"), Ok(None));
        assert_eq!(parse_v2_limit(b"500000 100000\n"), Ok(Some(5.0)));
        assert_eq!(parse_v2_limit(b"50000 100000\n"), Ok(Some(0.5)));
        assert_eq!(parse_v2_limit(b"250000 100000\n"), Ok(Some(2.5)));
        assert_eq!(
            parse_v2_limit(b"9223372036854775807 9223372036854775807\n"),
            Ok(Some(1.0))
        );
        for bad in [
            &b"500000 100000"[..],
            b"500000\n",
            b"500000us 100000\n",
            b"500000 100000us\n",
        ] {
            assert_eq!(parse_v2_limit(bad), Err(CgroupError::MalformedFile));
        }
    }

    #[test]
    fn finding_the_cpu_cgroup() {
        assert_eq!(
            parse_cpu_cgroup(b"0::/a/b/c\n"),
            Ok((b"/a/b/c".to_vec(), Version::V2))
        );
        // A v1 cpu controller wins over the v2 line, wherever it is.
        let mixed = b"0::/a/b/c\n3:net:/a/b/net\n2:cpu,cpuacct:/a/b/cpu\n";
        assert_eq!(
            parse_cpu_cgroup(mixed),
            Ok((b"/a/b/cpu".to_vec(), Version::V1))
        );
        // cpuacct alone is not the cpu controller.
        assert_eq!(
            parse_cpu_cgroup(b"2:cpuacct:/x\n0::/y\n"),
            Ok((b"/y".to_vec(), Version::V2))
        );
        assert_eq!(parse_cpu_cgroup(b""), Err(CgroupError::NoCgroup));
        assert_eq!(
            parse_cpu_cgroup(b"2:memory:/m\n"),
            Err(CgroupError::NoCgroup)
        );
        for bad in [&b"0::\n"[..], b"0:a\n", b"0::relative\n", b"0::/\n\n"] {
            assert_eq!(parse_cpu_cgroup(bad), Err(CgroupError::MalformedFile));
        }
        // The last line must end in a newline.
        assert_eq!(parse_cpu_cgroup(b"0::/"), Err(CgroupError::IncompleteLine));
    }

    #[test]
    #[cfg_attr(miri, ignore)] // 64 KiB lines: slow under miri, and no unsafe code to check
    fn overlong_cgroup_lines_and_paths_are_errors() {
        let long = format!("0::/{}\n", "x".repeat(PARSE_SIZE));
        assert_eq!(
            parse_cpu_cgroup(long.as_bytes()),
            Err(CgroupError::IncompleteLine)
        );
        let too_long = format!("0::/{}\n", "x".repeat(PATH_SIZE));
        assert_eq!(
            parse_cpu_cgroup(too_long.as_bytes()),
            Err(CgroupError::PathTooLong)
        );
    }

    #[test]
    fn contains_cpu_matches_whole_names() {
        assert!(!contains_cpu(b""));
        assert!(!contains_cpu(b"memory"));
        assert!(contains_cpu(b"cpu"));
        assert!(contains_cpu(b"cpu,cpuacct"));
        assert!(contains_cpu(b"rw,cpu"));
        assert!(contains_cpu(b"rw,cpu,cpuacct"));
        assert!(!contains_cpu(b"cpuacct,cpuset"));
    }

    #[test]
    fn finding_the_mount() {
        assert_eq!(
            parse_cpu_mount(V2_MOUNTINFO.as_bytes(), b"/", Version::V2),
            Ok(b"/sys/fs/cgroup".to_vec())
        );
        assert_eq!(
            parse_cpu_mount(V1_MOUNTINFO.as_bytes(), b"/docker/abc", Version::V1),
            Ok(b"/sys/fs/cgroup/cpu,cpuacct/docker/abc".to_vec())
        );
        // Mounts of part of the hierarchy: the first whose root contains the cgroup counts.
        let partial = "\
25 21 0:22 /sand /unrelated/cgroup1 rw - cgroup2 cgroup2 rw
25 21 0:22 /sandbox/container/group /sys/fs/cgroup/mygroup rw - cgroup2 cgroup2 rw
25 21 0:22 /sandbox /sys/fs/cgroup rw - cgroup2 cgroup2 rw
25 21 0:22 / /ignored/second/match rw - cgroup2 cgroup2 rw
";
        assert_eq!(
            parse_cpu_mount(partial.as_bytes(), b"/sandbox/container", Version::V2),
            Ok(b"/sys/fs/cgroup/container".to_vec())
        );
        // Escaped characters in the mount point are unescaped.
        let escaped = "25 21 0:22 / /sys/fs/cgroup/tab\\011tab rw - cgroup2 cgroup2 rw\n";
        assert_eq!(
            parse_cpu_mount(escaped.as_bytes(), b"/", Version::V2),
            Ok(b"/sys/fs/cgroup/tab\ttab".to_vec())
        );
        // A cgroup outside our namespace ("/../..") is unreachable from a mount of "/".
        assert_eq!(
            parse_cpu_mount(V2_MOUNTINFO.as_bytes(), b"/../../init", Version::V2),
            Err(CgroupError::NoCgroup)
        );
        let bad_escape = "56 22 0:40 /\\1 /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n";
        assert_eq!(
            parse_cpu_mount(bad_escape.as_bytes(), b"/", Version::V1),
            Err(CgroupError::InvalidEscape)
        );
        assert_eq!(
            parse_cpu_mount(b"", b"/", Version::V2),
            Err(CgroupError::NoCgroup)
        );
    }

    #[test]
    #[cfg_attr(miri, ignore)] // 64 KiB lines: slow under miri, and no unsafe code to check
    fn a_long_line_of_another_mount_is_harmless() {
        let mut info = String::from("262 31 0:72 / /merged rw - overlay overlay rw,lowerdir=");
        while info.len() < PARSE_SIZE + PATH_SIZE {
            info.push_str(":/so/many/overlay/layers");
        }
        info.push('\n');
        info.push_str(V2_MOUNTINFO);
        assert_eq!(
            parse_cpu_mount(info.as_bytes(), b"/", Version::V2),
            Ok(b"/sys/fs/cgroup".to_vec())
        );
    }

    #[test]
    fn path_prefixes_stop_at_slashes() {
        assert!(has_path_prefix(b"/a/b", b"/"));
        assert!(has_path_prefix(b"/a/b", b"/a"));
        assert!(has_path_prefix(b"/a", b"/a"));
        assert!(!has_path_prefix(b"/ab", b"/a"));
        assert!(!has_path_prefix(b"/", b"/a"));
    }

    #[test]
    fn unescaping() {
        assert_eq!(unescape_path(b"/a\\040b"), Ok(b"/a b".to_vec()));
        assert_eq!(unescape_path(b"\\134"), Ok(b"\\".to_vec()));
        for bad in [&b"\\1"[..], b"\\08a", b"\\777", b"/x\\04"] {
            assert_eq!(unescape_path(bad), Err(CgroupError::InvalidEscape));
        }
    }

    #[test]
    fn gomaxprocs_env() {
        assert_eq!(gomaxprocs_from_env(None, 6), 6);
        assert_eq!(gomaxprocs_from_env(Some(""), 6), 6);
        assert_eq!(gomaxprocs_from_env(Some("3"), 6), 3);
        assert_eq!(gomaxprocs_from_env(Some("+3"), 6), 3);
        assert_eq!(gomaxprocs_from_env(Some("0"), 6), 6);
        assert_eq!(gomaxprocs_from_env(Some("-2"), 6), 6);
        assert_eq!(gomaxprocs_from_env(Some(" 3"), 6), 6);
        assert_eq!(gomaxprocs_from_env(Some("3x"), 6), 6);
        assert_eq!(gomaxprocs_from_env(Some("1_0"), 6), 6);
        // Large values are kept: no clamp to 1024 since Go 1.10...
        assert_eq!(gomaxprocs_from_env(Some("5000"), 6), 5000);
        // ...but they must fit in 32 bits.
        assert_eq!(gomaxprocs_from_env(Some("2147483647"), 6), 2147483647);
        assert_eq!(gomaxprocs_from_env(Some("2147483648"), 6), 6);
    }

    #[test]
    fn godebug_switch() {
        assert!(godebug_containermaxprocs(""));
        assert!(!godebug_containermaxprocs("containermaxprocs=0"));
        assert!(!godebug_containermaxprocs("gctrace=1,containermaxprocs=0"));
        // The last setting wins; a value that is not a number is ignored.
        assert!(godebug_containermaxprocs(
            "containermaxprocs=0,containermaxprocs=1"
        ));
        assert!(!godebug_containermaxprocs(
            "containermaxprocs=0,containermaxprocs=off"
        ));
        assert!(godebug_containermaxprocs("containermaxprocs=2"));
    }

    #[test]
    fn errors_read_like_gos() {
        assert_eq!(CgroupError::NoCgroup.to_string(), "not in a cgroup");
        assert_eq!(CgroupError::MalformedFile.to_string(), "malformed file");
    }
}
