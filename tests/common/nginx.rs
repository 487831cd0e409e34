//! A real nginx for one test: Debian's `nginx`, started as a private instance with its own
//! prefix, config and free port, stopped when dropped. `None` (said once) when nginx is not
//! installed; with `CI=true` that is a failure instead (`.ci/run` installs it).

use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Once;
use std::time::{Duration, Instant};

pub struct Nginx {
    child: Child,
    pub port: u16,
    dir: tempfile::TempDir,
}

fn nginx_binary() -> Option<&'static str> {
    ["/usr/sbin/nginx", "/usr/bin/nginx"]
        .into_iter()
        .find(|path| Path::new(path).exists())
}

impl Nginx {
    /// Starts nginx with `http_block`: the body of an `http { }` block, listening on `port`.
    pub fn start(http_block: &str, port: u16) -> Option<Self> {
        static SAID: Once = Once::new();
        let Some(binary) = nginx_binary() else {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("CI=true, so the nginx tests may not be skipped: apt-get install nginx");
            }
            SAID.call_once(|| eprintln!("nginx tests SKIPPED: apt-get install nginx"));
            return None;
        };
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path().display().to_string();
        let config = format!(
            // One process: a kill stops it all, with no worker left holding the port.
            "master_process off;\n\
             error_log {root}/error.log warn;\n\
             pid {root}/nginx.pid;\n\
             events {{ worker_connections 256; }}\n\
             http {{\n\
               access_log off;\n\
               client_body_temp_path {root}/body;\n\
               proxy_temp_path {root}/proxy;\n\
               fastcgi_temp_path {root}/fastcgi;\n\
               uwsgi_temp_path {root}/uwsgi;\n\
               scgi_temp_path {root}/scgi;\n\
               {http_block}\n\
             }}\n"
        );
        let config_path = dir.path().join("nginx.conf");
        std::fs::write(&config_path, config).expect("write nginx.conf");
        let child = Command::new(binary)
            .arg("-p")
            .arg(dir.path())
            .arg("-e")
            .arg(dir.path().join("error.log"))
            .arg("-c")
            .arg(&config_path)
            .args(["-g", "daemon off;"])
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start nginx");
        let nginx = Self { child, port, dir };
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(15),
                "nginx did not start on port {port}: {}",
                nginx.error_log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(nginx)
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
