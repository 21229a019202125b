module github.com/proctest/proctest

go 1.26.0

require (
	go.uber.org/goleak v1.3.0
	golang.org/x/sys v0.50.0
	golang.org/x/tools v0.39.0
)

require github.com/rogpeppe/go-internal v1.16.0
