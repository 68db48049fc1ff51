package main

import (
	"os"
	"os/signal"
	"runtime"
	"syscall"
)

func runtimeGoroutines() int { return runtime.NumGoroutine() }

func signalNotify(c chan os.Signal) { signal.Notify(c, syscall.SIGTERM, os.Interrupt) }
