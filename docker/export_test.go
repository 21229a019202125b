package docker

// TestImage is the image of the tests' hosts, set by TestMain (in package
// docker_test) once it is built; empty where no engine answers.
var TestImage string
