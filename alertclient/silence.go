package alertclient

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/go-openapi/strfmt"
	"github.com/prometheus/alertmanager/api/v2/client/silence"
	"github.com/prometheus/alertmanager/api/v2/models"
	"github.com/prometheus/alertmanager/pkg/labels"
)

// Silence is a silence to create: alerts its matchers all match are
// muted from StartsAt to EndsAt.
type Silence struct {
	Matchers         []*labels.Matcher
	StartsAt, EndsAt time.Time
	CreatedBy        string
	Comment          string
}

// Validate checks the silence as Alertmanager would, before anything is
// sent: matchers, a creator, an end after the start and not in the past.
func (s Silence) Validate(now time.Time) error {
	var errs []error
	if len(s.Matchers) == 0 {
		errs = append(errs, errors.New("no matchers: a silence needs at least one"))
	}
	if s.StartsAt.IsZero() || s.EndsAt.IsZero() {
		errs = append(errs, errors.New("start and end times are needed"))
	} else if !s.EndsAt.After(s.StartsAt) {
		errs = append(errs, fmt.Errorf("ends at %s, not after it starts at %s", s.EndsAt.Format(time.RFC3339), s.StartsAt.Format(time.RFC3339)))
	}
	if !s.EndsAt.IsZero() && !s.EndsAt.After(now) {
		errs = append(errs, fmt.Errorf("ends at %s, in the past", s.EndsAt.Format(time.RFC3339)))
	}
	if s.CreatedBy == "" {
		errs = append(errs, errors.New("no author (createdBy)"))
	}
	return errors.Join(errs...)
}

// postable is the silence as the API takes it.
func (s Silence) postable() *models.PostableSilence {
	matchers := make(models.Matchers, len(s.Matchers))
	for i, m := range s.Matchers {
		name, value := m.Name, m.Value
		isEqual := m.Type == labels.MatchEqual || m.Type == labels.MatchRegexp
		isRegex := m.Type == labels.MatchRegexp || m.Type == labels.MatchNotRegexp
		matchers[i] = &models.Matcher{Name: &name, Value: &value, IsEqual: &isEqual, IsRegex: &isRegex}
	}
	start, end := strfmt.DateTime(s.StartsAt), strfmt.DateTime(s.EndsAt)
	createdBy, comment := s.CreatedBy, s.Comment
	return &models.PostableSilence{Silence: models.Silence{
		Matchers: matchers, StartsAt: &start, EndsAt: &end, CreatedBy: &createdBy, Comment: &comment,
	}}
}

// AddSilence creates the silence on the first Alertmanager, in the
// configured order, that accepts it (a cluster gossips it to the others),
// and returns its ID.
func (c *Client) AddSilence(ctx context.Context, s Silence) (string, error) {
	if err := s.Validate(time.Now()); err != nil {
		return "", err
	}
	var id string
	err := c.firstAccepting(ctx, func(ctx context.Context, ep *endpoint) error {
		ok, err := ep.silences.PostSilences(silence.NewPostSilencesParamsWithContext(ctx).WithSilence(s.postable()))
		if err != nil {
			return err
		}
		if ok.Payload == nil || ok.Payload.SilenceID == "" {
			// An empty body decodes without error: not a silence made.
			return errors.New("alertmanager answered 200 without a silence ID")
		}
		id = ok.Payload.SilenceID
		return nil
	})
	return id, err
}

// Silences returns the silences the first Alertmanager that answers
// knows, filtered by matchers as its API filters them (those with every
// matcher among their own).
func (c *Client) Silences(ctx context.Context, filter []string) (models.GettableSilences, error) {
	var found models.GettableSilences
	err := c.firstAccepting(ctx, func(ctx context.Context, ep *endpoint) error {
		ok, err := ep.silences.GetSilences(silence.NewGetSilencesParamsWithContext(ctx).WithFilter(filter))
		if err != nil {
			return err
		}
		if ok.Payload == nil { // an empty body or null; Alertmanager sends []
			return errors.New("alertmanager answered 200 without a list of silences")
		}
		if slices.Contains(ok.Payload, nil) {
			return errors.New("alertmanager answered a list of silences with a null in it")
		}
		found = ok.Payload
		return nil
	})
	return found, err
}

// ExpireSilence ends the silence id now, on the first Alertmanager that
// accepts it.
func (c *Client) ExpireSilence(ctx context.Context, id string) error {
	if !strfmt.IsUUID(id) {
		return fmt.Errorf("silence ID %q: not a UUID as Alertmanager gives", Printable(id))
	}
	return c.firstAccepting(ctx, func(ctx context.Context, ep *endpoint) error {
		_, err := ep.silences.DeleteSilence(silence.NewDeleteSilenceParamsWithContext(ctx).WithSilenceID(strfmt.UUID(id)))
		return err
	})
}

// firstAccepting calls call with each Alertmanager in turn, each within
// its timeout, until one succeeds. The error names each Alertmanager and
// says what it answered.
func (c *Client) firstAccepting(ctx context.Context, call func(context.Context, *endpoint) error) error {
	var errs []error
	for _, ep := range c.endpoints {
		rctx, cancel := context.WithTimeout(ctx, ep.timeout)
		resp := &capturedResponse{}
		err := call(context.WithValue(rctx, captureKey{}, resp), ep)
		cancel()
		if err == nil {
			return nil
		}
		switch {
		case resp.status != 0:
			err = resp.err()
		case resp.tooLarge:
			err = fmt.Errorf("%w of %d bytes, and was not read further", ErrResponseTooLarge, c.maxResponse)
		}
		errs = append(errs, fmt.Errorf("%s: %w", ep.url, err))
		if ctx.Err() != nil {
			break
		}
	}
	return errors.Join(errs...)
}
