package i18n

// checkMessages are the strings of the "is this message genuine?" checker:
// its page, and one text per reason code (check.reason.CODE), which the
// page, the API and the CLI all show. Same rules as messages.
var checkMessages = []struct{ key, en, ja string }{
	// The page.
	{"check.title", "Is this message really from us?", "このメッセージは本物？"},
	{"check.intro", "Paste a message you received — an email or an SMS — or upload the email's .eml file, and we compare it with what we actually sent. Nothing you paste is kept unless you choose to report it.", "届いたメッセージ（メールまたはSMS）を貼り付けるか、メールの .eml ファイルをアップロードしてください。当社が実際に送った内容と照合します。貼り付けた内容は、報告を選ばない限り保存しません。"},
	{"check.field_text", "The message's text", "メッセージの本文"},
	{"check.field_text_hint", "Copy everything from the first line to the last, including the reference (GH-…) at the end.", "最初の行から最後の行まで、末尾の参照番号（GH-…）も含めてすべてコピーしてください。"},
	{"check.field_eml", "Or the email as an .eml file", "または、メールの .eml ファイル"},
	{"check.field_eml_hint", "Most mail programs can save a message as .eml (\"Download message\", \"Show original\", \"Save as\"). It lets us check its signature too.", "多くのメールソフトでは、メッセージを .eml として保存できます（「メッセージをダウンロード」「メッセージのソースを表示」「名前を付けて保存」など）。署名も確認できます。"},
	{"check.field_ref", "Or only its reference", "または、参照番号のみ"},
	{"check.submit", "Check", "確認する"},
	{"check.result", "Result", "結果"},
	{"check.reasons", "Why", "理由"},
	{"check.again", "Check another message", "別のメッセージを確認する"},
	{"check.own_title", "This is your message", "あなた宛てのメッセージです"},
	{"check.own_text", "Here is what we sent you, so you can compare it (the code is hidden):", "比較できるよう、当社がお送りした内容を表示します（コードは伏せています）："},
	{"check.own_story", "What this message was for, and \"this wasn't me\"", "このメッセージの経緯と「心当たりがない」場合"},
	{"check.not_yours", "We sent this message, but not to you: it went to another account. If it reached you, someone passed it on — do not use its code or its links, and never give the code to anyone.", "このメッセージは当社が送ったものですが、あなた宛てではなく、別のアカウントに送ったものです。あなたに届いたのなら、誰かが転送したものです。コードやリンクは使わず、コードは誰にも伝えないでください。"},
	{"check.report_title", "Report this message", "このメッセージを報告する"},
	{"check.report_text", "If you received it, report it: we keep it on your account so that our team can see which tricks are used against our holders.", "受け取った場合は報告してください。あなたのアカウントに記録し、当社の担当者がどのような手口が使われているかを確認できるようにします。"},
	{"check.report_button", "Report this message", "報告する"},
	{"check.reported", "Thank you. The message is reported and kept on your account.", "ご報告ありがとうございます。メッセージを記録しました。"},
	{"check.reports", "Messages you reported", "報告したメッセージ"},
	{"check.kind.eml", ".eml file", ".eml ファイル"},
	{"check.kind.text", "pasted text", "貼り付けた文章"},
	{"check.kind.reference", "reference", "参照番号"},
	{"check.signin_more", "Signed in, you also see the message we sent you, and can report messages.", "ログインすると、当社がお送りしたメッセージの内容の表示や、メッセージの報告ができます。"},
	{"check.signin_link", "Sign in", "ログイン"},
	// Read by screen readers before each reason; the page shows a mark.
	{"check.level.bad", "Against it:", "本物でない根拠："},
	{"check.level.good", "For it:", "本物である根拠："},
	{"check.level.note", "Note:", "補足："},
	{"why.check_whole", "A reference alone does not show that a message says what we sent: paste the whole message on the checker.", "参照番号だけでは、メッセージの内容が当社の送ったものと同じかはわかりません。メッセージ全体をチェッカーに貼り付けて確認できます。"},
	{"messages.check_link", "Received something that looks like it is from us? Check it.", "当社を名乗るメッセージが届いたら、本物か確認できます。"},
	{"error.check_empty", "Paste the message, choose its .eml file, or type its reference.", "メッセージを貼り付けるか、.eml ファイルを選ぶか、参照番号を入力してください。"},
	{"error.check_too_large", "That is too large to check: an email can be at most 10 MB, a pasted text 256 KB.", "大きすぎて確認できません。メールは10MB、貼り付ける文章は256KBまでです。"},
	{"error.check_not_email", "That file is not an email (.eml): save the message from your mail program as .eml, or paste its text in the box instead.", "このファイルはメール（.eml）ではありません。メールソフトでメッセージを .eml として保存するか、本文を入力欄に貼り付けてください。"},
	{"error.check_charset", "The text's charset is unknown, or the text is not in it. Send it as UTF-8, or name its charset (shift_jis, iso-2022-jp, euc-jp …).", "文章の文字コードが不明か、指定された文字コードになっていません。UTF-8 で送るか、正しい文字コード（shift_jis・iso-2022-jp・euc-jp など）を指定してください。"},
	{"error.check_content_type", "Send JSON ({\"reference\"}, {\"text\"} or {\"eml\": base64}), a raw email as message/rfc822, or text as text/plain.", "JSON（{\"reference\"}・{\"text\"}・{\"eml\": base64}）、message/rfc822 の生のメール、または text/plain の文章を送ってください。"},
	{"error.check_json", "The body is not the JSON object this API takes.", "本文が、このAPIの受け付けるJSONではありません。"},
	{"error.check_base64", "\"eml\" must be the email in base64.", "「eml」はメールをbase64にしたものにしてください。"},
	{"error.no_raw_message", "No raw email is kept for this reference: it is not an email of ours the development driver delivered (an SMS, a withheld message, or one still queued).", "この参照番号の生のメールはありません。開発用ドライバーが配信した当社のメールではありません（SMS、送信しなかった記録、または配信待ちのもの）。"},
	{"error.cli_no_installation", "No Gatehouse installation is at %s: the checker answers from the server's records and keys. Give the server's --data (or --config, or GATEHOUSE_DATABASE) so that it reads the same ones.", "%s に Gatehouse のデータがありません。チェッカーはサーバーの記録と鍵を使って判定します。サーバーと同じ --data（または --config、GATEHOUSE_DATABASE）を指定してください。"},
	{"error.cli_no_public_url", "note: public_url is not set; the advice names %s. Give the server's --public-url (or --config) for it to name the address your holders use.", "注意：public_url が設定されていないため、案内には %s と表示されます。利用者が使うアドレスを表示するには、サーバーと同じ --public-url（または --config）を指定してください。"},
	{"error.cli_read", "Cannot read %s: %v", "%s を読み込めません：%v"},
	{"error.too_many_lookups", "Too many checks from your network. Wait a minute and try again.", "お使いのネットワークからの確認が多すぎます。1分ほど待ってからもう一度お試しください。"},

	// Verdicts.
	{"check.verdict.genuine", "Genuine: we sent this message", "本物です：このメッセージは当社が送信したものです"},
	{"check.verdict.not_ours", "Not from us", "当社からのメッセージではありません"},
	{"check.verdict.cannot_tell", "We cannot tell", "判断できません"},
	{"check.verdict_advice.genuine", "It is what we sent. Even so, never tell anyone its code.", "当社が送った内容のとおりです。それでも、コードは誰にも伝えないでください。"},
	{"check.verdict_advice.not_ours", "Do not open its links, reply, or enter anything it asks for. Delete it. If you already typed your password somewhere it led you, type our address, %s, into your browser yourself and change your password now.", "リンクを開かず、返信せず、求められた情報を入力しないでください。削除してください。誘導された先でパスワードを入力してしまった場合は、当社のアドレス %s をご自身でブラウザに入力してアクセスし、すぐにパスワードを変更してください。"},
	{"check.verdict_advice.cannot_tell", "Treat it with care: do not follow its links. To be sure, paste the whole message, or upload its .eml file.", "慎重に扱い、リンクは開かないでください。確実に判断するには、メッセージ全体を貼り付けるか、.eml ファイルをアップロードしてください。"},
	// After "sent on DATE to …" (en) and "用途：" (ja).
	{"check.purpose_notice", "tell you about your account's security", "セキュリティに関するお知らせ"},

	// How a host resembles ours.
	{"check.reason.kind.confusable", "it uses look-alike characters", "よく似た文字を使っています"},
	{"check.reason.kind.edit", "one letter differs", "1文字だけ違います"},
	{"check.reason.kind.swap", "two letters are swapped", "2文字が入れ替わっています"},
	{"check.reason.kind.embedded", "our name is part of someone else's domain", "当社の名前を含む別のドメインです"},

	// Our records.
	{"check.reason.reference_format", "%s is written like one of our references, but we could never have issued it.", "%s は当社の参照番号に似せていますが、当社が発行することのない番号です。"},
	{"check.reason.reference_unknown", "We never sent a message with reference %s.", "参照番号 %s のメッセージを当社は送っていません。"},
	{"check.reason.reference_ours", "We sent a message with reference %s on %s, to %s.", "参照番号 %s のメッセージは、当社が%sに送信しました。用途：%s。"},
	{"check.reason.reference_typo", "If you typed the reference, compare it with the message character by character: it is \"GH-\" and 12 letters and digits, and never uses 0, 1, O, I, L, U or V.", "参照番号を手で入力した場合は、メッセージと1文字ずつ見比べてください。参照番号は「GH-」と英数字12文字で、0・1・O・I・L・U・V は使いません。"},
	{"check.reason.reference_only", "A reference alone cannot show that the message you have says what we sent: paste the whole message to compare.", "参照番号だけでは、お手元のメッセージが当社の送った内容と同じかは確かめられません。比較するには、メッセージ全体を貼り付けてください。"},
	{"check.reason.reference_missing", "Every message %s sends carries a reference (\"GH-\" and letters). This one claims to be from us and has none.", "%s が送るメッセージには必ず参照番号（「GH-」で始まる番号）があります。このメッセージは当社を名乗っていますが、参照番号がありません。"},
	{"check.reason.reference_missing_partial", "It has no reference, which every message of %s ends with. If you copied only part of the message, paste all of it, down to its last line.", "参照番号がありません。%s のメッセージは必ず参照番号で終わります。メッセージの一部だけをコピーした場合は、最後の行まですべて貼り付けてください。"},
	{"check.reason.reference_expired", "It is signed with our key, but we no longer keep message %s (old messages are deleted), so we cannot compare it.", "当社の鍵で署名されていますが、メッセージ %s は保存期間を過ぎて削除されているため、内容を比較できません。"},
	{"check.reason.not_claiming", "It does not present itself as coming from %s.", "%s からのメッセージを名乗っていません。"},
	{"check.reason.content_matches", "It is exactly what we sent: message %s, sent on %s to %s.", "当社が送った内容と完全に一致します。メッセージ %s、%sに送信、用途：%s。"},
	{"check.reason.content_extra", "Text around the message was not part of it and was checked on its own: \"%s\".", "メッセージの前後にあった文字は、メッセージの一部ではないため別に確認しました：「%s」"},
	{"check.reason.content_partial", "What you pasted is part of that message, word for word, but not all of it.", "貼り付けられた文章は、そのメッセージの一部と一字一句同じですが、全体ではありません。"},
	{"check.reason.content_differs", "This text is not in what we sent: \"%s\".", "次の文章は当社が送った内容にありません：「%s」"},
	{"check.reason.subject_differs", "Its subject \"%s\" is not the subject we sent (\"%s\").", "件名「%s」は当社が送った件名（「%s」）と違います。"},
	{"check.reason.body_differs", "Its text is not what we sent under that reference: it was changed.", "本文が、その参照番号で当社が送った内容と違います。書き換えられています。"},
	{"check.reason.recipient_differs", "We did not send it to the address it was delivered to.", "当社はこのメッセージを、届いた宛先には送っていません。"},

	// Signatures.
	{"check.reason.dkim_ours", "Its DKIM signature is valid with one of our keys for %s: nobody changed it after we sent it.", "%s の当社の鍵による DKIM 署名が有効です。送信後に書き換えられていません。"},
	{"check.reason.dkim_retired_key", "The key that signed it has since been replaced; we keep old keys so old mail can still be checked.", "署名した鍵はその後更新されていますが、古いメールも確認できるよう以前の鍵を保管しています。"},
	{"check.reason.dkim_broken", "It carries a signature in the name of %s that does not verify: it was changed, or forged.", "%s 名義の署名がありますが、検証できません。書き換えられたか、偽造されています。"},
	{"check.reason.dkim_broken_matching", "Its text is what we sent, but its signature of %s no longer verifies: something it covers was changed (the code, the date, a header), or your mail program re-encoded the message. Do not rely on its code.", "本文は当社が送った内容と同じですが、%s の署名が検証できません。署名の対象（コード・日時・ヘッダー）が変更されたか、メールソフトが再エンコードした可能性があります。このコードは使わないでください。"},
	{"check.reason.dkim_broken_rewritten", "Its signature of %s no longer verifies because a mail security service (%s) rewrote its links to pass through its own servers. With the links put back, its text is word for word what we sent; but as the signature is broken, we cannot vouch for everything in it.", "%s の署名は、メールのセキュリティサービス（%s）がリンクを自社のサーバー経由に書き換えたため、検証できなくなっています。リンクを元に戻すと本文は当社が送った内容と一字一句同じですが、署名が壊れているため、すべての内容を保証することはできません。"},
	{"check.reason.links_rewritten", "A mail security service (%s) rewrote its links to pass through its own servers; with them put back, they are ours.", "メールのセキュリティサービス（%s）がリンクを自社のサーバー経由に書き換えています。元に戻したリンクは当社のものです。"},
	{"check.reason.header_twice", "It has more than one %s header, which a message may have only once: one was added on top, and your mail program shows that one.", "本来1つしかないはずのヘッダー（%s）が複数あります。後から追加されたもので、メールソフトにはそちらが表示されます。"},
	{"check.reason.dkim_valid_header_added", "Its signature of %s verifies, but it covers only the last of the repeated header fields, not the one added on top.", "%s の署名は検証できますが、署名の対象は重複したヘッダーの最後のものだけで、後から上に追加されたものは含まれません。"},
	{"check.reason.dkim_missing_matching", "Its text is what we sent, but it has no signature of %s, which every email we send carries: someone removed it, so nothing vouches for its code or its headers.", "本文は当社が送った内容と同じですが、当社が送るすべてのメールにある %s の署名がありません。署名が取り除かれているため、コードやヘッダーが正しいかを保証できません。"},
	{"check.reason.dkim_missing", "It has no valid signature of %s.", "%s の有効な署名がありません。"},
	{"check.reason.dkim_other_domain", "It is validly signed, but by %s, not by us.", "有効な署名がありますが、署名したのは当社ではなく %s です。"},
	{"check.reason.dkim_other_unverified", "It carries a signature by %s that could not be checked.", "%s による署名がありますが、確認できませんでした。"},

	// Sender.
	{"check.reason.sender_ours", "It was sent from our address %s.", "当社のアドレス %s から送信されています。"},
	{"check.reason.sender_subdomain", "It was sent from %s; we send only from %s itself.", "%s から送信されています。当社は %s 以外からは送信しません。"},
	{"check.reason.sender_lookalike", "It was sent from %s, which imitates our domain %s: %s.", "送信元 %s は当社のドメイン %s に似せたものです。%s。"},
	{"check.reason.display_name_brand", "The sender calls itself \"%s\", but the address is %s, not ours.", "送信者名は「%s」ですが、アドレスは当社のものではない %s です。"},
	{"check.reason.sender_other", "It was sent from %s, which is not our address.", "送信元 %s は当社のアドレスではありません。"},
	{"check.reason.sender_punycode", "The sender's domain %s is really %s, which mixes scripts (%s).", "送信元のドメイン %s の実体は %s で、複数の文字体系（%s）が混ざっています。"},
	{"check.reason.reply_to_elsewhere", "Replies would go to %s, not to us: we never set a reply address.", "返信先が当社ではなく %s になっています。当社が返信先を指定することはありません。"},
	{"check.reason.return_path_elsewhere", "Its return path is %s (this alone proves nothing: mail services often set it).", "Return-Path は %s です（メール配信サービスが設定することも多く、これだけでは判断できません）。"},

	// Links.
	{"check.reason.link_text_mismatch", "A link shows \"%s\" but really goes to %s.", "リンクの表示は「%s」ですが、実際の行き先は %s です。"},
	{"check.reason.link_ip", "A link goes to a bare IP address, %s: we never link to one.", "リンクの行き先が IP アドレス（%s）です。当社はこのようなリンクを使いません。"},
	{"check.reason.link_shortener", "A link goes through the URL shortener %s, which hides where it leads: we never use one.", "リンクが短縮 URL（%s）で、本当の行き先が隠されています。当社は短縮 URL を使いません。"},
	{"check.reason.link_punycode", "A link's host %s is really %s, written in mixed or foreign scripts (%s).", "リンク先のホスト %s の実体は %s で、異なる文字体系（%s）で書かれています。"},
	{"check.reason.link_lookalike", "A link goes to %s, which imitates our domain %s: %s.", "リンク先 %s は当社のドメイン %s に似せたものです。%s。"},
	{"check.reason.link_foreign", "A link goes to %s, which is not ours.", "リンク先 %s は当社のものではありません。"},

	// Content.
	{"check.reason.asks_code", "It asks you to hand over a code (\"%s\"): we never ask for a code.", "コードを伝えるよう求めています（「%s」）。当社がコードを尋ねることはありません。"},
	{"check.reason.asks_password", "It asks for your password (\"%s\"): we never do.", "パスワードを求めています（「%s」）。当社がパスワードを尋ねることはありません。"},
	{"check.reason.asks_card", "It asks about payment cards or accounts (\"%s\"): we never do.", "クレジットカードや口座の情報を求めています（「%s」）。当社がお尋ねすることはありません。"},
	{"check.reason.pressure", "It pressures you to act fast (\"%s\"): a common trick.", "急がせる表現があります（「%s」）。よくある手口です。"},
	{"check.reason.sms_origin_elsewhere", "Its last line binds the code to %s, another site: your phone would offer the code there.", "最終行がコードを別のサイト %s に結びつけています。スマートフォンがそのサイトでコードを入力候補に出してしまいます。"},
	{"check.reason.foreign_kanji", "Its Japanese contains characters that Japanese character sets do not have (%s): it was probably not written in Japan.", "日本語の文章に、日本の文字コードにない漢字（%s）が含まれています。日本で書かれたものではない可能性が高いです。"},
	// Between two quoted phrases of one reason ("suspended", "within 24 hours").
	{"check.reason.quote_join", "\", \"", "」「"},
	{"check.reason.truncated", "It is very large or deeply nested; only its first parts were read.", "非常に大きいか入れ子が深いため、最初の部分だけを確認しました。"},
}
