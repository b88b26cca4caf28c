package app

import (
	"fmt"

	"gatehouse/internal/brand"
	"gatehouse/internal/config"
	"gatehouse/internal/web"
)

// readLook reads the service's own look (brand.*) from the files the
// configuration names: the logo and the template overrides, each checked
// as far as it can be alone. It runs first in New, so that a wrong file
// stops the start before anything is opened or created.
func readLook(cfg *config.Config) (*brand.Look, error) {
	l := &brand.Look{
		Name:      cfg.String("service_name"),
		Color:     cfg.BrandColor("brand.color"),
		ColorDark: cfg.BrandColor("brand.color_dark"),
	}
	for _, fl := range cfg.FooterLinks() {
		l.Links = append(l.Links, brand.Link{Labels: fl.Labels, URL: fl.URL})
	}
	var err error
	if p := cfg.String("brand.logo"); p != "" {
		if l.Logo, err = brand.ReadLogo(p); err != nil {
			return nil, err
		}
	}
	if d := cfg.String("brand.templates"); d != "" {
		if l.Templates, err = brand.ReadTemplates(d, web.PageFiles()); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// useLook gives the look to the pages and the emails, and checks what
// only they can: the colours against the pages' backgrounds, each page
// template drawn with the layout, the email template drawing everything a
// message carries. It runs before the pages are first built.
func (a *App) useLook(l *brand.Look) error {
	a.Outbox.Color = l.Color
	if l.Templates.Mail != "" {
		if err := a.Outbox.UseHTMLTemplate(l.Templates.Path(brand.MailTemplate), l.Templates.Mail); err != nil {
			return fmt.Errorf("brand.templates: %w", err)
		}
	}
	return a.Web.CheckLook()
}
