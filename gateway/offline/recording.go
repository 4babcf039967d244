package offline

import (
	"context"
	"fmt"

	"github.com/bmcgate/bmcgate/audit"
)

// ConsoleRecording loads a console recording from a data directory's audit
// log offline. id is a console session id or a user's SSH session id.
func ConsoleRecording(ctx context.Context, dataDir, id string) (*audit.Recording, error) {
	s, err := Open(dataDir)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	rec, err := audit.LoadRecording(ctx, s.Search, id)
	if err != nil {
		return nil, fmt.Errorf("recording %q: %w", id, err)
	}
	return rec, nil
}
