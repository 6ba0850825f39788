//! Start-up guarantees of the real binary: a bad key file stops `mock-clerk serve` (and `token`, `env`, `jwks`)
//! with a clear error on stderr and exit code 1, before anything is printed on stdout (no `listening on` line,
//! no env block, no token) and before the port is bound, and the file is left as it was. No timings: each run is
//! waited for to its end.

use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use mock_clerk::keys::TEST_KEY_PEM;

const BINARY: &str = env!("CARGO_BIN_EXE_mock-clerk");

/// A fresh directory under the system temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("mock-clerk-startup-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn pem(der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let lines: Vec<&str> = body.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).unwrap()).collect();
    format!("-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n", lines.join("\n"))
}

fn test_key_der() -> Vec<u8> {
    let body: String = TEST_KEY_PEM.lines().filter(|l| !l.starts_with("-----")).collect();
    STANDARD.decode(body).unwrap()
}

/// The bad key files, each with a fragment its error must contain.
fn bad_key_files() -> Vec<(&'static str, Vec<u8>, &'static str)> {
    // Well-formed DER whose last byte (inside qInv, the last CRT value) is changed: only the RSA consistency
    // check (q * qInv = 1 mod p) can tell.
    let mut inconsistent = test_key_der();
    *inconsistent.last_mut().unwrap() ^= 0x01;
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let ec = aws_lc_rs::signature::EcdsaKeyPair::generate_pkcs8(&aws_lc_rs::signature::ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
    let rsa3072 = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa3072).unwrap();
    let rsa3072: aws_lc_rs::encoding::Pkcs8V1Der<'static> = aws_lc_rs::encoding::AsDer::as_der(&rsa3072).unwrap();
    vec![
        ("garbage", b"not a key\n".to_vec(), "holds no PRIVATE KEY block"),
        ("not-der", b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n".to_vec(), "block 0 is not a PKCS#8 RSA private key"),
        ("inconsistent", pem(&inconsistent).into_bytes(), "block 0 is not a PKCS#8 RSA private key"),
        ("second-block-bad", format!("{TEST_KEY_PEM}{}", pem(&inconsistent)).into_bytes(), "block 1 is not a PKCS#8 RSA private key"),
        ("ec-key", pem(ec.as_ref()).into_bytes(), "block 0 is not a PKCS#8 RSA private key"),
        ("rsa-3072", pem(rsa3072.as_ref()).into_bytes(), "is not RSA-2048 with e = 65537"),
    ]
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs the binary to its end. A `listening on` line means it served: it is then killed and the test fails (so a
/// regression shows as a failure, not as a hang).
fn run(args: &[&str], key_file: &Path) -> Run {
    let mut command = Command::new(BINARY);
    command.args(args).arg("--key-file").arg(key_file).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    for (name, _) in std::env::vars() {
        if name.starts_with("MOCK_CLERK_") {
            command.env_remove(name);
        }
    }
    let mut child = command.spawn().expect("spawn mock-clerk");
    let mut stderr_pipe = child.stderr.take().unwrap();
    let stderr = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr_pipe.read_to_string(&mut text);
        text
    });
    let mut stdout = String::new();
    for line in BufReader::new(child.stdout.take().unwrap()).lines().map_while(Result::ok) {
        if line.contains("listening on") {
            let _ = child.kill();
            let _ = child.wait();
            panic!("mock-clerk {args:?} served with the key file {}: {line}", key_file.display());
        }
        stdout.push_str(&line);
        stdout.push('\n');
    }
    let status = child.wait().expect("wait for mock-clerk");
    Run { code: status.code(), stdout, stderr: stderr.join().unwrap() }
}

#[test]
fn a_bad_key_file_stops_every_command_before_anything_is_printed_or_served() {
    let dir = TempDir::new("bad");
    // A port held by this test: a server that bound it before checking its key would fail with "address in use"
    // instead of the key file's error.
    let held = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = held.local_addr().unwrap().to_string();
    let mut cases = bad_key_files();
    cases.push(("a-directory", Vec::new(), "Is a directory"));
    for (name, contents, expected) in cases {
        let key_file = dir.0.join(format!("{name}.pem"));
        if name == "a-directory" {
            std::fs::create_dir_all(&key_file).unwrap();
        } else {
            std::fs::write(&key_file, &contents).unwrap();
        }
        for command in [&["serve", "--addr", addr.as_str()][..], &["token"], &["env"], &["jwks"]] {
            let out = run(command, &key_file);
            let what = format!("{name}, mock-clerk {command:?}");
            assert_eq!(out.code, Some(1), "{what}: exit code; stderr {}", out.stderr);
            assert_eq!(out.stdout, "", "{what}: nothing on stdout (no env block, no token)");
            let key_error = format!("mock-clerk: key file {}", key_file.display());
            assert!(out.stderr.contains(&key_error) && out.stderr.contains(expected), "{what}: {}", out.stderr);
            assert!(!out.stderr.contains("in use"), "{what}: the key is checked before the port is bound: {}", out.stderr);
        }
        if name != "a-directory" {
            assert_eq!(std::fs::read(&key_file).unwrap(), contents, "{name}: the bad key file is left as it was");
        }
    }
}

#[test]
fn a_good_key_file_gets_as_far_as_the_port() {
    let dir = TempDir::new("good");
    let key_file = dir.0.join("keys.pem");
    std::fs::write(&key_file, TEST_KEY_PEM).unwrap();
    // With the port taken, the start fails there: the step after the key check.
    let held = TcpListener::bind("127.0.0.1:0").unwrap();
    let out = run(&["serve", "--addr", &held.local_addr().unwrap().to_string()], &key_file);
    assert_eq!((out.code, out.stdout.as_str()), (Some(1), ""), "{}", out.stderr);
    assert!(out.stderr.contains("in use"), "{}", out.stderr);
    // The same file prints a token.
    let out = run(&["token"], &key_file);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(out.stdout.trim().split('.').count(), 3, "{}", out.stdout);
}

#[test]
fn a_bad_seed_file_stops_the_start_naming_file_line_and_field() {
    let dir = TempDir::new("seed");
    let key_file = dir.0.join("keys.pem");
    std::fs::write(&key_file, TEST_KEY_PEM).unwrap();
    // Held: a server that bound the port before checking its seed would fail with "address in use" instead.
    let held = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = held.local_addr().unwrap().to_string();
    let cases = [
        ("typo", "[[users]]\nemail = \"ada@example.com\"\nfirst_nam = \"Ada\"\n", ":3: users[0].first_nam: unknown field `first_nam`"),
        (
            "wrong-type",
            "[[users]]\nemail = \"ada@example.com\"\n\n[[users]]\nemail = \"grace@example.com\"\npassword = 12345678\n",
            ":6: users[1].password: invalid type",
        ),
        (
            "duplicate-email",
            "[[users]]\nemail = \"ada@example.com\"\n\n[[users]]\nemail = \"ADA@example.com\"\n",
            ":5: users[1].email: \"ADA@example.com\" is already taken",
        ),
        ("bad-email", "[[users]]\nemail = \"not-an-email\"\n", ":2: users[0].email: \"not-an-email\" is not a valid email address"),
        ("syntax", "[[users]\nemail = \"ada@example.com\"\n", ":1: "),
        (
            "unknown-organization",
            "[[users]]\nemail = \"ada@example.com\"\n\n[[memberships]]\norganization = \"acme\"\nuser = \"ada@example.com\"\n",
            ":5: memberships[0].organization: no organization with slug \"acme\"",
        ),
        ("template-claim", "[[jwt_templates]]\nname = \"t\"\nclaims = { iss = \"me\" }\n", ":3: jwt_templates[0].claims: iss is a default claim"),
    ];
    for (name, text, expected) in cases {
        let seed = dir.0.join(format!("{name}.toml"));
        std::fs::write(&seed, text).unwrap();
        let out = run(&["serve", "--addr", &addr, "--seed", seed.to_str().unwrap()], &key_file);
        assert_eq!((out.code, out.stdout.as_str()), (Some(1), ""), "{name}: {}", out.stderr);
        let want = format!("mock-clerk: {}{expected}", seed.display());
        assert!(out.stderr.contains(&want), "{name}: expected {want:?} in {}", out.stderr);
        assert!(!out.stderr.contains("in use"), "{name}: the seed is checked before the port is bound: {}", out.stderr);
    }
    let out = run(&["serve", "--addr", &addr, "--seed", dir.0.join("missing.toml").to_str().unwrap()], &key_file);
    assert_eq!(out.code, Some(1));
    assert!(out.stderr.contains("missing.toml: cannot read the seed file"), "{}", out.stderr);
    // The example seed is fine: the start gets as far as the held port.
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/seed.example.toml");
    let out = run(&["serve", "--addr", &addr, "--seed", example], &key_file);
    assert_eq!(out.code, Some(1));
    assert!(out.stderr.contains("in use"), "{}", out.stderr);
}
