//! The compiled rule-set cache of `vigil hunt` and `vigil explain`: the compilation of a set of rule files, kept on
//! disk under a key that covers everything compiling reads, so that the next run over the same rules skips reading
//! YAML, running pipelines and lowering (`vigil_compiler::compile::cache` is the encoding).
//!
//! The key is a BLAKE3 digest of: this program (its version and its executable's size, modification time and
//! inode, so a rebuilt or upgraded binary never reads an older one's entries), the resolved settings (pipelines and
//! routing, as their full debug form), and every rule and filter file's kind, path and text in order. A changed
//! byte anywhere is another key: an entry is never stale, only unused. Entries are checked (on Linux, owned by this
//! user and writable by no one else; magic, key, a digest of their body) before use; a damaged, foreign or
//! unreadable entry is ignored and written again. Beside each compilation, what the matcher derived from its rules
//! (prefilter witnesses, regex sizes: `vigil_runtime::derived`) is kept the same way. The folder keeps the [`KEPT`]
//! most recently used entries.

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use vigil_compiler::compile::{cache, Compilation, Settings};
use vigil_runtime::derived::Derived;

/// Entries kept in the folder: the rule sets a hunter switches between (each a few megabytes).
const KEPT: usize = 8;

/// Bumped when the layout of an entry or the key's contents change.
const FORMAT: &[u8; 8] = b"VIGILRC2";

/// A digest naming one compilation.
#[derive(Clone)]
pub struct Key([u8; 32]);

/// A file that goes into the key: a rule file or a `--filter` file, its path as shown and its text.
pub struct Keyed<'a> {
    pub filter: bool,
    pub path: &'a str,
    pub text: &'a str,
}

/// A compilation's place in the cache: `hit` when it came from there.
pub struct Stored {
    pub cache: RuleCache,
    pub key: Key,
    pub hit: bool,
}

/// The cache's folder.
pub struct RuleCache {
    dir: PathBuf,
}

impl RuleCache {
    /// The folder named by `VIGIL_CACHE_DIR`, else `$XDG_CACHE_HOME/vigil/rules`, else `~/.cache/vigil/rules`;
    /// `None` when none can be told.
    pub fn locate() -> Option<RuleCache> {
        let named = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
        let dir = named("VIGIL_CACHE_DIR")
            .or_else(|| named("XDG_CACHE_HOME").map(|d| d.join("vigil/rules")))
            .or_else(|| named("HOME").map(|d| d.join(".cache/vigil/rules")))?;
        Some(RuleCache { dir })
    }

    /// The key of compiling `files` with `settings` by this program; `None` when the program's own file cannot be
    /// examined (then nothing is cached).
    pub fn key<'a>(settings: &Settings, files: impl Iterator<Item = Keyed<'a>>) -> Option<Key> {
        let mut hasher = blake3::Hasher::new();
        hasher.update(FORMAT);
        add(&mut hasher, env!("CARGO_PKG_VERSION").as_bytes());
        add(&mut hasher, program_identity()?.as_bytes());
        add(&mut hasher, format!("{settings:?}").as_bytes());
        for file in files {
            hasher.update(&[u8::from(file.filter)]);
            add(&mut hasher, file.path.as_bytes());
            add(&mut hasher, file.text.as_bytes());
        }
        Some(Key(*hasher.finalize().as_bytes()))
    }

    /// The file of `key`'s entry (`bin`: the compilation; `derived`: what the matcher derived from it).
    fn entry(&self, key: &Key, extension: &str) -> PathBuf {
        self.dir.join(format!("{}.{extension}", blake3::Hash::from(key.0).to_hex()))
    }

    /// The compilation stored under `key`, with the files' `texts` (taken only when it is returned); `None` when
    /// there is none or it does not check.
    pub fn load(&self, key: &Key, texts: &mut [String]) -> Option<Compilation> {
        let path = self.entry(key, "bin");
        let compilation = cache::decode(&read_checked(&path, key)?, texts)?;
        // Most recently used: kept the longest.
        let _ = fs::File::options().append(true).open(&path).and_then(|f| f.set_modified(std::time::SystemTime::now()));
        Some(compilation)
    }

    /// Stores `compilation` under `key` (written whole or not at all), then keeps the [`KEPT`] newest entries.
    /// A cache that cannot be written is not an error: the next run compiles again.
    pub fn store(&self, key: &Key, compilation: &Compilation) {
        let Some(body) = cache::encode(compilation) else { return };
        if fs::create_dir_all(&self.dir).is_ok() && write_checked(&self.entry(key, "bin"), key, &body).is_ok() {
            prune(&self.dir);
        }
    }

    /// What the matcher derived from the compilation stored under `key` (`vigil_runtime::derived`).
    pub fn derived(&self, key: &Key) -> Option<Derived> {
        Derived::decode(&read_checked(&self.entry(key, "derived"), key)?)
    }

    /// Keeps `derived` beside the compilation stored under `key` (none, none kept).
    pub fn store_derived(&self, key: &Key, derived: &Derived) {
        let Some(body) = derived.encode() else { return };
        if self.entry(key, "bin").is_file() {
            let _ = write_checked(&self.entry(key, "derived"), key, &body);
        }
    }
}

/// The body of the entry at `path`, when it is [`trusted`] and its magic, key and digest check. Checked on the file
/// opened, then read from it: not a file swapped in between.
fn read_checked(path: &Path, key: &Key) -> Option<Vec<u8>> {
    let mut file = fs::File::open(path).ok()?;
    if !trusted(&file.metadata().ok()?) {
        return None;
    }
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).ok()?;
    let rest = bytes.strip_prefix(FORMAT)?.strip_prefix(&key.0[..])?;
    let (digest, body) = rest.split_at_checked(32)?;
    (blake3::hash(body).as_bytes()[..] == *digest).then(|| body.to_vec())
}

/// Writes an entry whole (a temporary file renamed) or not at all: its magic, key, the digest of `body`, `body`.
fn write_checked(path: &Path, key: &Key, body: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut file = tempfile::NamedTempFile::new_in(dir)?;
    file.write_all(FORMAT)?;
    file.write_all(&key.0)?;
    file.write_all(blake3::hash(body).as_bytes())?;
    file.write_all(body)?;
    file.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Whether an entry may be used: on Linux, a file of this process's user that no one else may write (an entry
/// decides which rules run; one planted in a shared folder must not). Elsewhere, any file.
fn trusted(entry: &fs::Metadata) -> bool {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::MetadataExt;
        let Ok(me) = fs::metadata("/proc/self") else { return false };
        entry.is_file() && entry.uid() == me.uid() && entry.mode() & 0o022 == 0
    }
    #[cfg(not(target_os = "linux"))]
    {
        entry.is_file()
    }
}

/// A length-prefixed field, so that two different sequences of fields never hash alike.
fn add(hasher: &mut blake3::Hasher, bytes: &[u8]) {
    hasher.update(&(bytes.len() as u64).to_le_bytes());
    hasher.update(bytes);
}

/// This executable's size, modification time and inode: a rebuilt binary is another program.
fn program_identity() -> Option<String> {
    let metadata = fs::metadata(std::env::current_exe().ok()?).ok()?;
    let modified = metadata.modified().ok()?.duration_since(std::time::UNIX_EPOCH).ok()?;
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(&metadata);
    #[cfg(not(unix))]
    let inode = 0u64;
    Some(format!("{} {} {inode}", metadata.len(), modified.as_nanos()))
}

/// Removes all but the [`KEPT`] most recently used entries.
fn prune(dir: &Path) {
    let Ok(read) = fs::read_dir(dir) else { return };
    let mut entries: Vec<(std::time::SystemTime, PathBuf)> = read
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "bin"))
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .collect();
    if entries.len() <= KEPT {
        return;
    }
    entries.sort_by_key(|e| std::cmp::Reverse(e.0));
    for (_, path) in entries.into_iter().skip(KEPT) {
        let _ = fs::remove_file(path.with_extension("derived"));
        let _ = fs::remove_file(path);
    }
}
