package service

import (
	"context"
	"sync"
)

// Fanout runs fn for every index in [0,n) with at most limit calls in
// flight (all at once when limit <= 0), and calls emit with each result in
// index order as soon as it and every earlier result are ready. emit is
// never called concurrently. fn is called for every index, also once ctx
// is done: a caller that wants to stop early returns from fn at once when
// ctx.Err() is set.
func Fanout[R any](ctx context.Context, n, limit int, fn func(ctx context.Context, i int) R, emit func(i int, r R)) {
	if n == 0 {
		return
	}
	if limit <= 0 || limit > n {
		limit = n
	}
	results := make([]R, n)
	done := make([]chan struct{}, n)
	for i := range done {
		done[i] = make(chan struct{})
	}
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < n; i++ {
			sem <- struct{}{}
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				defer func() { <-sem }()
				results[i] = fn(ctx, i)
				close(done[i])
			}(i)
		}
	}()
	for i := 0; i < n; i++ {
		<-done[i]
		emit(i, results[i])
	}
	wg.Wait()
}
