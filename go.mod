module github.com/proctest/proctest

go 1.24
