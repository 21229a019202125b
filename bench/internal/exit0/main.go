// Command exit0 exits 0 at once. It is the program the docker workloads
// spawn, on container hosts and on this machine: built static, it runs in
// an image FROM scratch and here alike.
package main

func main() {}
