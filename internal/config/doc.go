// Package config reads what a deployment and its pipelines are made of: the
// environment (database and object store URLs, credentials, listen address)
// and the pipeline file, mlserve.yaml.
//
// Parse and Load read a pipeline file strictly: an unknown field, a value of
// the wrong type, broken YAML or a setting that makes no sense is an error
// that names the file and line, says what is wrong and how to fix it, and
// every problem of the file is reported at once (ErrorList). A file that
// parses has its defaults filled in (Pipeline.WithDefaults) and is valid;
// code that builds a File itself calls WithDefaults and Validate.
//
// Marshal writes a File back as a commented mlserve.yaml that Parse reads to
// the same File; Example returns the built-in examples.
//
// Env holds the environment; its String and LogValue never show a secret.
//
// Among mlserve packages, config imports only internal/schema.
package config
