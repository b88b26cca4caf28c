package app

import (
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"gatehouse/internal/brand"
	"gatehouse/internal/config"
	"gatehouse/internal/i18n"
	"gatehouse/internal/outbox"
	"gatehouse/internal/web"
)

// readLook reads the service's own look (brand.*) from the files the
// configuration names and checks it whole: the logo and the template
// files alone (package brand), the colours and page templates against the
// pages (web.Server.CheckLook), the email template against what every
// message carries (outbox.Outbox.UseHTMLTemplate). It runs first in New,
// with a page server and an outbox of its own, so that a look refused at
// start stops it before anything is opened or created: no database,
// secrets or keys are left behind by a start that never served.
func readLook(cfg *config.Config, log *slog.Logger) (*brand.Look, error) {
	l := &brand.Look{
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
	var cat *i18n.Catalog // only the templates need one
	if l.Templates.Mail != "" || len(l.Templates.Pages) > 0 {
		cat = i18n.New()
	}
	if l.Templates.Mail != "" {
		if err := useMailTemplate(&outbox.Outbox{Catalog: cat, ServiceName: cfg.String("service_name"), PublicURL: cfg.PublicURL(), Support: supportContact(cfg)}, l); err != nil {
			return nil, err
		}
	}
	pages := &web.Server{Catalog: cat, Log: log, ServiceName: cfg.String("service_name"), Look: l}
	if err := pages.CheckLook(); err != nil {
		return nil, err
	}
	return l, nil
}

// useLook gives the look, checked by readLook, to the emails (the pages
// get it as web.Server.Look).
func (a *App) useLook(l *brand.Look) error {
	a.Outbox.Color = l.Color
	return useMailTemplate(a.Outbox, l)
}

// useMailTemplate has o draw emails with the look's template, if it has one.
func useMailTemplate(o *outbox.Outbox, l *brand.Look) error {
	if l.Templates.Mail == "" {
		return nil
	}
	if err := o.UseHTMLTemplate(l.Templates.Path(brand.MailTemplate), l.Templates.Mail); err != nil {
		return fmt.Errorf("brand.templates: %w", err)
	}
	return nil
}

// supportContact is where holders reach support (support.url and/or
// support.email, joined), or "" when neither is set.
func supportContact(cfg *config.Config) string {
	return strings.Join(slices.DeleteFunc([]string{cfg.String("support.url"), cfg.String("support.email")}, func(v string) bool { return v == "" }), " / ")
}
