//! Outgoing mail: SMTP when configured, otherwise .eml files under the data directory (and a log line).

use async_trait::async_trait;
use lettre::message::{Mailbox, header::ContentType};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::path::PathBuf;

#[derive(Debug, Clone)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub body: String,
}

#[async_trait]
pub trait Mailer: Send + Sync {
    async fn send(&self, mail: Mail) -> anyhow::Result<()>;
}

pub struct SmtpMailer {
    from: Mailbox,
    transport: AsyncSmtpTransport<Tokio1Executor>,
}

impl SmtpMailer {
    pub fn new(url: &str, from: &str) -> anyhow::Result<Self> {
        Ok(SmtpMailer {
            from: from.parse()?,
            transport: AsyncSmtpTransport::<Tokio1Executor>::from_url(url)?.build(),
        })
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, mail: Mail) -> anyhow::Result<()> {
        self.transport.send(build(&self.from, mail)?).await?;
        Ok(())
    }
}

/// The development mailer: each message becomes `<data dir>/mail/<id>.eml`, readable in any mail client.
pub struct FileMailer {
    from: Mailbox,
    dir: PathBuf,
    transport: AsyncFileTransport<Tokio1Executor>,
}

impl FileMailer {
    pub fn new(dir: PathBuf, from: &str) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&dir)?;
        Ok(FileMailer {
            from: from.parse()?,
            transport: AsyncFileTransport::new(&dir),
            dir,
        })
    }
}

#[async_trait]
impl Mailer for FileMailer {
    async fn send(&self, mail: Mail) -> anyhow::Result<()> {
        let (to, subject) = (mail.to.clone(), mail.subject.clone());
        let id = self.transport.send(build(&self.from, mail)?).await?;
        tracing::info!(to = %to, subject = %subject, file = %self.dir.join(format!("{id}.eml")).display(), "mail written");
        Ok(())
    }
}

fn build(from: &Mailbox, mail: Mail) -> anyhow::Result<Message> {
    Ok(Message::builder()
        .from(from.clone())
        .to(mail.to.parse()?)
        .subject(mail.subject)
        .header(ContentType::TEXT_PLAIN)
        .body(mail.body)?)
}
