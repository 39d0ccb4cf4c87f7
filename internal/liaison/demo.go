package liaison

import (
	"context"
	"errors"
	"fmt"
	"time"

	"puente/internal/area"
)

// SeedDemo sends synthetic liaison threads both ways through the real
// services and link. Every name and company in them is invented.
func (s *Service) SeedDemo(ctx context.Context, seed area.Seed) error {
	us := seed.Partner.(*Service)
	type msg struct {
		fromUS   bool
		user     string
		to       string
		subject  string
		priority string
		body     string
		reply    string
		replier  string
	}
	seeds := []msg{
		{false, "analista", "FinCEN", "Red de empresas fachada: Comercializadora Ficticia Alfa", "urgent",
			"La UIF identificó transferencias por 4.2 millones de USD desde Comercializadora Ficticia Alfa S.A. de C.V. hacia cuentas en Texas entre enero y marzo. Solicitamos saber si FinCEN tiene reportes relacionados. (Datos sintéticos de demostración.)",
			"Received. We are checking our holdings on the Texas accounts and will answer within the agreed deadline. (Synthetic demo data.)", "analyst"},
		{true, "analyst", "UIF", "Structured cash deposits linked to Grupo Ejemplo Beta", "routine",
			"FinCEN observed structured cash deposits below the reporting threshold at three border branches, linked to the invented network Grupo Ejemplo Beta. Sharing for your analysis. (Synthetic demo data.)", "", ""},
		{false, "coordinador", "CBP", "Coordinación sector Tijuana–San Diego", "immediate",
			"Proponemos una ventana de coordinación en el sector Tijuana–San Diego para la próxima semana. (Datos sintéticos de demostración.)", "", ""},
	}
	for _, m := range seeds {
		from, other, fromUser, otherUser := s, us, seed.User, seed.PartnerUser
		if m.fromUS {
			from, other, fromUser, otherUser = us, s, seed.PartnerUser, seed.User
		}
		u, err := fromUser(ctx, m.user)
		if err != nil {
			return err
		}
		t, err := from.Start(ctx, u, NewThread{Subject: m.subject, Priority: m.priority, ToAgency: m.to, Body: m.body})
		if err != nil {
			return fmt.Errorf("seeding a thread: %w", err)
		}
		if m.reply == "" {
			continue
		}
		ru, err := otherUser(ctx, m.replier)
		if err != nil {
			return err
		}
		// Wait for the thread to cross, then answer it from the other side.
		deadline := time.Now().Add(10 * time.Second)
		for {
			if _, err := other.Get(ctx, ru, t.ID); err == nil {
				break
			}
			if time.Now().After(deadline) {
				return errors.New("seeding: the first demo message did not reach the partner within 10 s")
			}
			time.Sleep(50 * time.Millisecond)
		}
		if _, err := other.MarkRead(ctx, ru, t.ID); err != nil {
			return err
		}
		if _, err := other.Reply(ctx, ru, t.ID, m.reply, nil); err != nil {
			return fmt.Errorf("seeding a reply: %w", err)
		}
	}
	return nil
}
