//! Reads the configuration, sets up tracing, then serves or runs a command.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use personal_tokens::config::{Cli, Command, LogFormat};
use personal_tokens::{app::Application, cli};
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match cli.settings.log_format {
        // Span fields (the request id) come with every event of a request.
        LogFormat::Json => logs
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .init(),
        // Colour codes only for a person at a terminal, never into a log file or journal.
        LogFormat::Text => logs.with_ansi(std::io::stderr().is_terminal()).init(),
    }

    let result = match cli.command {
        None | Some(Command::Serve) => serve(cli.settings),
        Some(Command::Notify) => cli::run_notify(&cli.settings),
        Some(Command::User { command }) => cli::run_user_command(&cli.settings, command),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn serve(settings: personal_tokens::config::Settings) -> Result<(), String> {
    actix_web::rt::System::new().block_on(async move {
        let app = Application::build(settings)
            .await
            .map_err(|e| e.to_string())?;
        tracing::info!(address = %app.address(), "serving the dashboard");
        app.run_until_stopped().await.map_err(|e| e.to_string())
    })
}
