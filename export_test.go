package proctest

// MemoryLogs makes a plan choose its log root as it does with none set,
// with shm as the memory file system, disk as where kept logs move to, and
// floor and limit as the free room shm must have and the memory the logs
// may take: so that tests of the bounds need not write gigabytes.
func MemoryLogs(shm, disk string, floor, limit int64) Option {
	return optionFunc(func(c *config) {
		c.logRoot = ""
		c.mem = memConfig{shm: shm, disk: disk, floor: floor, limit: limit}
	})
}
