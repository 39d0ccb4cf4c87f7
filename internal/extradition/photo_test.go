package extradition_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/png"
	"testing"
	"time"

	"puente/internal/auth"
	"puente/internal/extradition"
	"puente/internal/fault"
	"puente/internal/testenv"
)

// TestPhotosCross: a photo added to a draft crosses with the release, one
// added to a released nomination with its next version; the partner
// serves the same bytes; what is not a JPEG or PNG is refused.
func TestPhotosCross(t *testing.T) {
	p := testenv.StartPair(t)
	ctx := context.Background()
	mk := func(party, name string, role auth.Role, agency string) *auth.User {
		u, err := p.Nodes[party].Auth.Create(ctx, auth.NewUser{Username: name, DisplayName: name, Role: role, Agency: agency, Password: "photo-password-123"})
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	coord, fgr, doj := mk("MX", "coord", auth.Coordinator, "SSPC"), mk("MX", "fgr", auth.Legal, "FGR"), mk("US", "doj", auth.Legal, "DOJ-OIA")
	mx, us := extradition.Of(p.Nodes["MX"]), extradition.Of(p.Nodes["US"])
	photo := func(c uint8) []byte {
		img := image.NewRGBA(image.Rect(0, 0, 4, 4))
		img.Set(1, 1, color.RGBA{c, 0, 0, 255})
		var b bytes.Buffer
		if err := png.Encode(&b, img); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	tg, err := mx.Nominate(ctx, coord, extradition.Target{Name: "Rigoberto Salcido Ávila", DOB: "1979-03-14"})
	if err != nil {
		t.Fatal(err)
	}
	var fe *fault.FieldError
	if _, err := mx.AddPhoto(ctx, coord, tg.ID, "notes.txt", []byte("not a photo at all")); !errors.As(err, &fe) || fe.Code != "not_a_photo" {
		t.Fatalf("a text file as a photo: %v", err)
	}
	first, second := photo(10), photo(200)
	if _, err := mx.AddPhoto(ctx, coord, tg.ID, "frente.png", first); err != nil {
		t.Fatal(err)
	}
	if _, err := mx.Submit(ctx, coord, tg.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := mx.Release(ctx, fgr, tg.ID, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := mx.AddPhoto(ctx, coord, tg.ID, "perfil.png", second); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 15*time.Second, "both photos on the US", func() bool {
		got, err := us.Get(ctx, doj, tg.ID)
		return err == nil && len(got.Photos) == 2
	})
	got, _ := us.Get(ctx, doj, tg.ID)
	for i, want := range [][]byte{first, second} {
		ph, data, err := us.PhotoData(ctx, doj, tg.ID, got.Photos[i].SHA256)
		if err != nil || !bytes.Equal(data, want) || ph.ContentType != "image/png" {
			t.Fatalf("photo %d on the US: %v, %d bytes, %+v", i, err, len(data), ph)
		}
	}
}
