//! A real Prometheus Pushgateway (Debian's `prometheus-pushgateway`, which
//! tests/os2mo/install-deps installs) on a free loopback port, for `[host] pushgateway`.

use super::real_mo::{free_port, http_request, spawn_child, wait_until};
use std::process::{Child, Command};
use std::time::Duration;

pub struct Pushgateway {
    child: Child,
    port: u16,
    _logs: tempfile::TempDir,
}

impl Drop for Pushgateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Pushgateway {
    /// Starts one and waits until it is ready. `MOPORT_PUSHGATEWAY` names the program, else
    /// `prometheus-pushgateway` on the PATH.
    pub fn start() -> Pushgateway {
        let program = std::env::var_os("MOPORT_PUSHGATEWAY").unwrap_or_else(|| "prometheus-pushgateway".into());
        let logs = tempfile::tempdir().unwrap();
        let log = logs.path().join("pushgateway.log");
        let port = free_port().unwrap();
        let mut child = spawn_child(
            Command::new(&program).arg(format!("--web.listen-address=127.0.0.1:{port}")),
            &log,
            None,
        )
        .unwrap_or_else(|err| {
            panic!("{err}: the Pushgateway tests need Debian's prometheus-pushgateway; run tests/os2mo/install-deps")
        });
        let ready = || get(port, "/-/ready").is_some_and(|(status, _)| status == 200);
        wait_until(Duration::from_secs(30), "the Pushgateway to be ready", &log, &mut child, ready).unwrap();
        Pushgateway { child, port, _logs: logs }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// What it serves Prometheus: every group pushed to it, each sample labelled with its group.
    pub fn metrics(&self) -> String {
        let (status, body) = get(self.port, "/metrics").expect("the Pushgateway answers");
        assert_eq!(status, 200, "{body}");
        body
    }
}

fn get(port: u16, path: &str) -> Option<(u16, String)> {
    http_request(port, "GET", path, Duration::from_secs(10))
}
