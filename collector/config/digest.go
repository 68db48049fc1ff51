package config

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"os"

	"go.yaml.in/yaml/v3"
)

// Digest hashes the main file and every target file its globs match right
// now (names and bytes), so a watcher can poll for a change, including a
// file appearing in or leaving a glob. It fails only when the main file
// cannot be read; a main file that does not parse is hashed as it is.
func Digest(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	writeEntry(h, path, data)

	var globs struct {
		TargetFiles []string `yaml:"target_files"`
	}
	_ = yaml.Unmarshal(data, &globs) // a broken file changes the hash anyway
	for _, f := range matchTargetFiles(path, globs.TargetFiles, func(int, error) {}) {
		b, err := os.ReadFile(f)
		if err != nil {
			b = []byte("unreadable: " + err.Error())
		}
		writeEntry(h, f, b)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// writeEntry length-prefixes name and data so no two file sets hash alike.
func writeEntry(h hash.Hash, name string, data []byte) {
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(name)))
	h.Write(n[:])
	h.Write([]byte(name))
	binary.BigEndian.PutUint64(n[:], uint64(len(data)))
	h.Write(n[:])
	h.Write(data)
}
