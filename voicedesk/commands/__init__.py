"""One module a subcommand, each with `run(args: argparse.Namespace) -> int`."""
