// Command mlserve turns a database table into a live, continuously retrained
// prediction API. See `mlserve help`.
package main

import (
	"os"

	"github.com/mlserve/mlserve/internal/cli"
)

func main() {
	os.Exit(cli.Main(cli.Env{Args: os.Args[1:], Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}))
}
