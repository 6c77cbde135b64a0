package mysqltype

import "testing"

func TestRenameSchemas(t *testing.T) {
	m := map[string]string{"shop": "shop_copy", "a": "b", "b": "a"}
	for _, c := range []struct{ in, want string }{
		{"select `shop`.`t`.`id` AS `id` from `shop`.`t`", "select `shop_copy`.`t`.`id` AS `id` from `shop_copy`.`t`"},
		{"INSERT INTO shop.log VALUES ('shop.log', \"shop.`x`\") -- shop.t\n", "INSERT INTO `shop_copy`.log VALUES ('shop.log', \"shop.`x`\") -- shop.t\n"},
		{"SELECT 'it''s shop.t', `shop`.t /* shop.t */", "SELECT 'it''s shop.t', `shop_copy`.t /* shop.t */"},
		{"SELECT x.shop.t, shop_other.t, `shop` FROM t", "SELECT x.shop.t, shop_other.t, `shop` FROM t"},
		{"SELECT 'a\\'shop.t' FROM `a`.t JOIN b.u", "SELECT 'a\\'shop.t' FROM `b`.t JOIN `a`.u"}, // one pass: a swap swaps
		{"DEFAULT nextval(`shop`.`seq`)", "DEFAULT nextval(`shop_copy`.`seq`)"},
		{"GRANT SELECT ON `shop`.* TO `u`@`%`", "GRANT SELECT ON `shop_copy`.* TO `u`@`%`"},
		{"select `sh``op`.x", "select `sh``op`.x"},
	} {
		if got := RenameSchemas(c.in, m); got != c.want {
			t.Errorf("RenameSchemas(%q)\n got %q\nwant %q", c.in, got, c.want)
		}
	}
	if got := RenameSchemas("select `sh``op`.x", map[string]string{"sh`op": "n"}); got != "select `n`.x" {
		t.Errorf("quoted backquote: %q", got)
	}
}

func TestStripDefiner(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"CREATE ALGORITHM=UNDEFINED DEFINER=`root`@`localhost` SQL SECURITY DEFINER VIEW `v` AS select 1", "CREATE ALGORITHM=UNDEFINED SQL SECURITY DEFINER VIEW `v` AS select 1"},
		{"CREATE DEFINER=`app`@`%` TRIGGER t BEFORE INSERT ON x FOR EACH ROW SET NEW.a = 'DEFINER=`x`@`y` '", "CREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW SET NEW.a = 'DEFINER=`x`@`y` '"},
		{"create definer = 'a b'@'10.0.0.%' procedure p() begin end", "create procedure p() begin end"},
		{"CREATE DEFINER=CURRENT_USER() FUNCTION f() RETURNS INT RETURN 1", "CREATE FUNCTION f() RETURNS INT RETURN 1"},
		{"CREATE DEFINER=`ro``le` EVENT e ON SCHEDULE EVERY 1 DAY DO SELECT 1", "CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO SELECT 1"},
		{"CREATE VIEW v AS SELECT 1", "CREATE VIEW v AS SELECT 1"},
	} {
		if got := StripDefiner(c.in); got != c.want {
			t.Errorf("StripDefiner(%q)\n got %q\nwant %q", c.in, got, c.want)
		}
	}
}

func TestUnqualified(t *testing.T) {
	in := "select `shop`.`t`.`id` AS `id` from `shop`.`t` where 'shop.t' = shop.f(1) and `x`.`shop`.`y` = 0"
	want := "select `t`.`id` AS `id` from `t` where 'shop.t' = f(1) and `x`.`shop`.`y` = 0"
	if got := Unqualified(in, "shop"); got != want {
		t.Errorf("Unqualified\n got %q\nwant %q", got, want)
	}
}

func TestStripTriggerOrder(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"CREATE DEFINER=`r`@`%` TRIGGER z BEFORE INSERT ON t FOR EACH ROW PRECEDES `a_second` SET NEW.s = 'FOR EACH ROW FOLLOWS x'", "CREATE DEFINER=`r`@`%` TRIGGER z BEFORE INSERT ON t FOR EACH ROW SET NEW.s = 'FOR EACH ROW FOLLOWS x'"},
		{"create trigger m before insert on t for each row\n  follows a_second begin set new.s = 'c'; end", "create trigger m before insert on t for each row begin set new.s = 'c'; end"},
		{"CREATE TRIGGER x AFTER DELETE ON t FOR EACH ROW DELETE FROM u", "CREATE TRIGGER x AFTER DELETE ON t FOR EACH ROW DELETE FROM u"},
		{"CREATE TRIGGER x BEFORE INSERT ON t FOR EACH ROW SET NEW.s = 'for each row follows x'", "CREATE TRIGGER x BEFORE INSERT ON t FOR EACH ROW SET NEW.s = 'for each row follows x'"},
	} {
		if got := StripTriggerOrder(c.in); got != c.want {
			t.Errorf("StripTriggerOrder(%q)\n got %q\nwant %q", c.in, got, c.want)
		}
	}
}
