//! What the integration tests share: the MO stand-in and the real OS2mo, the DAR stand-in, the
//! token issuer, FTPS and SFTP servers, a real Pushgateway, an HTTP helper, and running the
//! `moport` binary. The benchmarks take some of these files in by path.

pub mod dar_standin;
pub mod ftps_server;
pub mod hostile;
pub mod http;
pub mod los_after_demo;
pub mod mo_proxy;
pub mod mo_standin;
pub mod moport_cli;
pub mod pushgateway;
pub mod real_mo;
pub mod sftp_server;
pub mod token_issuer;
