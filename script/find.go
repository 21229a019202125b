package script

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Find returns the script files that paths name, as the proctest command
// reads its arguments. A path is a script file, whatever its name; a
// directory, for its *.plan and *.txtar files; or DIR/..., for those of
// DIR and of every directory below it but testdata and those whose name
// starts with a dot. The files found under one path come sorted by name.
func Find(paths ...string) ([]string, error) {
	var files []string
	for _, p := range paths {
		recursive := false
		if rest, ok := strings.CutSuffix(p, "..."); ok {
			p, recursive = filepath.Clean(rest), true
		}
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			if recursive {
				return nil, fmt.Errorf("%s/...: not a directory", p)
			}
			files = append(files, p)
			continue
		}
		var found []string
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && path != p && (!recursive || strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			if !d.IsDir() && (strings.HasSuffix(path, ".plan") || strings.HasSuffix(path, ".txtar")) {
				found = append(found, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		sort.Strings(found)
		files = append(files, found...)
	}
	return files, nil
}
