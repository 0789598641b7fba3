// Prevents an extra console window on Windows in release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use clap::Parser;
use interlock_station_lib::{run, Cli};

fn main() {
    let cli = Cli::parse();
    std::process::exit(run(cli));
}
