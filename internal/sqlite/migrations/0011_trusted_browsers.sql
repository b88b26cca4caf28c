-- "Don't ask again on this browser": an account may trust a device it
-- signed in on, until a date; the password is still asked, the second step
-- is not. A password change and "sign out everywhere" end all trust.
ALTER TABLE account_devices ADD COLUMN trusted_until INTEGER;
