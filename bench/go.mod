module github.com/proctest/proctest/bench

go 1.26.0

require github.com/proctest/proctest v0.0.0

require (
	github.com/rogpeppe/go-internal v1.16.0
	golang.org/x/sys v0.50.0 // indirect
	golang.org/x/tools v0.39.0 // indirect
)

replace github.com/proctest/proctest => ../
